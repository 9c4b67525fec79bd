import Link from "next/link";

export default function Forbidden() {
  return (
    <main className="auth-page">
      <div className="auth-card" data-testid="forbidden">
        <h1>Not allowed</h1>
        <p>Your role does not give access to this page. Ask an admin of this portal if you need it.</p>
        <Link href="/catalog">Back to the catalog</Link>
      </div>
    </main>
  );
}
