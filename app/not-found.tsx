import Link from "next/link";

export default function NotFound() {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <h1>Not found</h1>
        <p>There is nothing at this address.</p>
        <Link href="/catalog">Back to the catalog</Link>
      </div>
    </main>
  );
}
