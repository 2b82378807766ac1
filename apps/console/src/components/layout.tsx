import { useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useSessionContext } from '../session.tsx';

const NAV: Array<{ to: string; label: string; role?: 'operator' | 'admin'; primaryOnly?: boolean }> = [
  { to: '/', label: 'Dashboard' },
  { to: '/computers', label: 'Computers' },
  { to: '/policies', label: 'Policies' },
  { to: '/events', label: 'Events' },
  { to: '/recommendations', label: 'Recommendations' },
  { to: '/playbooks', label: 'Playbooks' },
  { to: '/forwarders', label: 'Event forwarders' },
  { to: '/cloud-accounts', label: 'Cloud accounts' },
  { to: '/activation-tokens', label: 'Activation tokens', role: 'operator' },
  { to: '/api-keys', label: 'API keys', role: 'admin' },
  { to: '/users', label: 'Users', role: 'admin' },
  // Tenants are managed from the primary tenant only.
  { to: '/tenants', label: 'Tenants', role: 'admin', primaryOnly: true },
];

/** The frame of every page: a skip link, the navigation (a drawer on narrow screens) and the page. */
export function Layout() {
  const { session, logout, can } = useSessionContext();
  const [navOpen, setNavOpen] = useState(false);
  const location = useLocation();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" className="nav-toggle" aria-expanded={navOpen} aria-controls="main-nav" onClick={() => setNavOpen((o) => !o)}>
          Menu
        </button>
        <span className="brand">Palisade</span>
        <span className="whoami" data-testid="whoami">
          {session?.username ? (
            <>
              <strong>{session.username}</strong> ·{' '}
            </>
          ) : null}
          tenant <strong>{session?.tenant}</strong> · role <strong>{session?.role}</strong>
        </span>
        <button type="button" className="secondary" onClick={logout}>
          Log out
        </button>
      </header>
      <nav id="main-nav" aria-label="Main" className={navOpen ? 'sidenav open' : 'sidenav'} key={location.pathname}>
        <ul>
          {NAV.filter((n) => (!n.role || can(n.role)) && (!n.primaryOnly || session?.tenant === 'primary')).map((n) => (
            <li key={n.to}>
              <NavLink to={n.to} end={n.to === '/'} onClick={() => setNavOpen(false)}>
                {n.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
