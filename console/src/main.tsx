import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, RouterProvider } from 'react-router';
import './i18n';
import './styles.css';
import { ApiError } from './api';
import { App } from './App';
import { Dashboard } from './pages/Dashboard';
import { Products, ProductEdit } from './pages/Products';
import { Inventory } from './pages/Inventory';
import { OrderDetail, Orders } from './pages/Orders';
import { CustomerDetail, Customers } from './pages/Customers';
import { Search } from './pages/Search';
import { Jobs } from './pages/Jobs';
import { Backups } from './pages/Backups';
import { Shipping } from './pages/Shipping';
import { Webhooks } from './pages/Webhooks';
import { PromotionEdit, Promotions } from './pages/Promotions';
import { CatalogImport } from './pages/CatalogImport';

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 2_000,
      // A 4xx will not change by asking again; a network error or a 503 may.
      retry: (n, e) => n < 2 && !(e instanceof ApiError && e.status >= 400 && e.status < 500),
    },
  },
});

const router = createBrowserRouter(
  [
    {
      path: '/',
      element: <App />,
      children: [
        { index: true, element: <Dashboard /> },
        { path: 'products', element: <Products /> },
        { path: 'products/new', element: <ProductEdit /> },
        { path: 'products/:id', element: <ProductEdit /> },
        { path: 'inventory', element: <Inventory /> },
        { path: 'orders', element: <Orders /> },
        { path: 'orders/:id', element: <OrderDetail /> },
        { path: 'customers', element: <Customers /> },
        { path: 'customers/:id', element: <CustomerDetail /> },
        { path: 'search', element: <Search /> },
        { path: 'jobs', element: <Jobs /> },
        { path: 'backups', element: <Backups /> },
        { path: 'shipping', element: <Shipping /> },
        { path: 'webhooks', element: <Webhooks /> },
        { path: 'promotions', element: <Promotions /> },
        { path: 'promotions/new', element: <PromotionEdit /> },
        { path: 'promotions/:id', element: <PromotionEdit /> },
        { path: 'catalogImport', element: <CatalogImport /> },
      ],
    },
  ],
  { basename: '/console' },
);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
