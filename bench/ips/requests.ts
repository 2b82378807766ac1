/** The fixed benchmark mix: browser-like GET, urlencoded POST, JSON POST and a multipart upload. */
export interface BenchRequest {
  name: string;
  method: string;
  uri: string;
  headers: [string, string][];
  body?: string;
}

const common: [string, string][] = [
  ['Host', 'shop.example.com'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.5'],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Cookie', 'session=3f1c2a9e8b7d6c5f4e3d2c1b0a998877; theme=dark; _ga=GA1.2.123456789.1700000000'],
  ['Connection', 'keep-alive'],
];

const BOUNDARY = '---------------------------9051914041544843365972754266';
const multipartBody = [
  `--${BOUNDARY}`,
  'Content-Disposition: form-data; name="title"',
  '',
  'Holiday photos',
  `--${BOUNDARY}`,
  'Content-Disposition: form-data; name="description"',
  '',
  'Pictures from the trip to the coast, summer 2024.',
  `--${BOUNDARY}`,
  'Content-Disposition: form-data; name="file"; filename="beach.txt"',
  'Content-Type: text/plain',
  '',
  'Sand, sea and a lot of sun.'.repeat(20),
  `--${BOUNDARY}--`,
  '',
].join('\r\n');

export const BENCH_MIX: BenchRequest[] = [
  { name: 'GET', method: 'GET', uri: '/products/search?q=blue+running+shoes&size=42&sort=price_asc&page=2', headers: common },
  {
    name: 'urlencoded POST',
    method: 'POST',
    uri: '/account/login',
    headers: [...common, ['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', '']],
    body: 'username=alice.smith%40example.com&password=correct+horse+battery+staple&remember=on&next=%2Faccount%2Forders',
  },
  {
    name: 'JSON POST',
    method: 'POST',
    uri: '/api/v1/orders',
    headers: [...common, ['Content-Type', 'application/json'], ['Content-Length', '']],
    body: JSON.stringify({ customer: { id: 4711, name: 'Alice Smith', email: 'alice@example.com' }, items: [{ sku: 'SHOE-42-BLUE', qty: 1, price: 89.9 }, { sku: 'SOCK-3PK', qty: 2, price: 9.5 }], shipping: { method: 'standard', address: { street: '12 Harbour Road', city: 'Portsmouth', zip: 'PO1 3AX' } }, note: 'Please leave at the door' }),
  },
  {
    name: 'multipart POST',
    method: 'POST',
    uri: '/gallery/upload',
    headers: [...common, ['Content-Type', `multipart/form-data; boundary=${BOUNDARY}`], ['Content-Length', '']],
    body: multipartBody,
  },
].map((r) => ({ ...r, headers: r.headers.map(([k, v]): [string, string] => (k === 'Content-Length' ? [k, String(Buffer.byteLength(r.body ?? ''))] : [k, v])) }));
