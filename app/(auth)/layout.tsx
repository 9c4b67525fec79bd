import type { ReactNode } from "react";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>{" "}
          Meshport
        </div>
        {children}
      </div>
    </main>
  );
}
