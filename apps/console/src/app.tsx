import { Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/layout.tsx';
import { ApiKeysPage } from './pages/api-keys-page.tsx';
import { CloudAccountsPage } from './pages/cloud-accounts-page.tsx';
import { ComputerPage } from './pages/computer-page.tsx';
import { ComputersPage } from './pages/computers-page.tsx';
import { DashboardPage } from './pages/dashboard-page.tsx';
import { EventPage } from './pages/event-page.tsx';
import { EventsPage } from './pages/events-page.tsx';
import { ForwardersPage } from './pages/forwarders-page.tsx';
import { LoginPage } from './pages/login-page.tsx';
import { PlaybooksPage } from './pages/playbooks-page.tsx';
import { PoliciesPage } from './pages/policies-page.tsx';
import { RecommendationsPage } from './pages/recommendations-page.tsx';
import { SmartFolderPage } from './pages/smart-folder-page.tsx';
import { TenantsPage } from './pages/tenants-page.tsx';
import { TokensPage } from './pages/tokens-page.tsx';
import { UsersPage } from './pages/users-page.tsx';
import { useSessionContext } from './session.tsx';

export function App() {
  const { session } = useSessionContext();
  if (!session) return <LoginPage />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<DashboardPage />} />
        <Route path="computers" element={<ComputersPage />} />
        <Route path="computers/:id" element={<ComputerPage />} />
        <Route path="smart-folders/new" element={<SmartFolderPage />} />
        <Route path="smart-folders/:id" element={<SmartFolderPage />} />
        <Route path="policies" element={<PoliciesPage />} />
        <Route path="policies/:id" element={<PoliciesPage />} />
        <Route path="events" element={<EventsPage />} />
        <Route path="events/:id" element={<EventPage />} />
        <Route path="recommendations" element={<RecommendationsPage />} />
        <Route path="activation-tokens" element={<TokensPage />} />
        <Route path="api-keys" element={<ApiKeysPage />} />
        <Route path="users" element={<UsersPage />} />
        <Route path="playbooks" element={<PlaybooksPage />} />
        <Route path="forwarders" element={<ForwardersPage />} />
        <Route path="cloud-accounts" element={<CloudAccountsPage />} />
        <Route path="tenants" element={<TenantsPage />} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Route>
    </Routes>
  );
}
