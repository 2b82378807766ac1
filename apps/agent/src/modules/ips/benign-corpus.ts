import type { ReplayRequest } from './replay-request.ts';

/**
 * A deterministic corpus of ordinary traffic for false-positive measurement: REST/JSON APIs,
 * HTML forms with natural language in several scripts, multipart uploads, GraphQL, cookies.
 * Deterministic (seeded) so a change in block count always means a change in the rules.
 */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const FIRST = [
  'Alice',
  'Bob',
  'Chloé',
  'Dmitri',
  'Emeka',
  'Fatima',
  'Gunnar',
  'Hiroshi',
  'Ingrid',
  'José',
  'Kwame',
  'Leïla',
  'Mei',
  'Nikolai',
  'Olivia',
  'Priya',
  'Quentin',
  'Rosa',
  'Søren',
  'Tomás',
  'Ümit',
  'Valentina',
  'Wei',
  'Yusuf',
  'Zoë',
];
const LAST = [
  'Smith',
  'Müller',
  'García',
  'Nakamura',
  'O’Brien',
  'Kowalski',
  'Dubois',
  'Rossi',
  'Novák',
  'Andersson',
  'Okafor',
  'Haddad',
  'Ivanova',
  'Chen',
  'Silva',
];
const CITIES = ['Lisbon', 'Kraków', 'São Paulo', 'Zürich', 'Montréal', 'Reykjavík', 'Düsseldorf', 'Tōkyō', 'Nairobi', 'Chennai'];
const SENTENCES = [
  'Hi, I ordered the blue jacket last week and it still has not arrived. Could you check the tracking number for me?',
  'The meeting is moved to Thursday at 3pm; please bring the quarterly figures and the draft budget.',
  'I would like to select a different delivery date from the calendar, since I am away from home until the 14th.',
  'Great product! Works as described, although the manual could explain the setup steps a bit better.',
  'Can you update my shipping address? The old one was 12 Baker Street, the new one is 4 Elm Road, flat 2.',
  'Please cancel my subscription at the end of this billing period and confirm by e-mail.',
  "We're organising a charity run on June 3rd - join us and bring your friends and family!",
  'Le colis est arrivé endommagé, pourriez-vous m’envoyer un remplacement ? Merci beaucoup.',
  'Ich möchte meine Bestellung ändern: bitte statt Größe M die Größe L schicken.',
  '¿Podrían decirme cuándo vuelve a estar disponible este producto en color verde?',
  '注文した商品がまだ届いていません。配送状況を確認していただけますか？',
  '请问这个产品可以开发票吗？我们公司需要报销。',
  'Здравствуйте! Подскажите, пожалуйста, сроки доставки в Новосибирск.',
  'مرحبا، أود معرفة موعد وصول طلبي رقم ٤٥٦٧ من فضلكم.',
  'Olá! Gostaria de saber se vocês entregam aos sábados em Lisboa.',
  'The recipe needs 2 cups of flour, 1 tsp of salt and 3 eggs; bake at 180°C for 25-30 minutes.',
  'Our team uses the dashboard every morning to review the previous day’s sales and open tickets.',
  'If the update fails, restart the app and try again; if it still fails, contact support with the error code.',
  'I think the price shown at checkout (€49.90) is different from the one on the product page (€44.90).',
  'Please note: the office will be closed on Monday for the public holiday.',
];
const PRODUCTS = [
  'wireless mouse',
  'standing desk',
  'espresso machine',
  'running shoes',
  'yoga mat',
  'noise-cancelling headphones',
  'cast-iron pan',
  'backpack 30L',
  'LED desk lamp',
  'mechanical keyboard',
];
const UA = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'okhttp/4.12.0',
  'python-requests/2.31.0',
];

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)]!;
}

function browserHeaders(r: () => number, extra: [string, string][] = []): [string, string][] {
  return [
    ['User-Agent', pick(r, UA)],
    ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
    ['Accept-Language', pick(r, ['en-US,en;q=0.9', 'fr-FR,fr;q=0.8,en;q=0.5', 'de-DE,de;q=0.9', 'ja-JP,ja;q=0.9', 'zh-CN,zh;q=0.9'])],
    [
      'Cookie',
      `session=${Math.floor(r() * 1e12).toString(36)}${Math.floor(r() * 1e12).toString(36)}; theme=${pick(r, ['dark', 'light'])}; consent=analytics%3Dfalse%26ads%3Dfalse`,
    ],
    ...extra,
  ];
}

function form(o: Record<string, string>): string {
  return Object.entries(o)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%20/g, '+')}`)
    .join('&');
}

export function generateBenignCorpus(count = 520, seed = 42): ReplayRequest[] {
  const r = rng(seed);
  const out: ReplayRequest[] = [];
  const makers: (() => ReplayRequest)[] = [
    () => {
      const id = Math.floor(r() * 100000);
      return {
        method: 'GET',
        uri: `/api/v1/users/${id}?include=orders,addresses&fields=name,email`,
        headers: browserHeaders(r, [
          ['Accept', 'application/json'],
          ['Authorization', `Bearer eyJhbGciOiJIUzI1NiJ9.${Buffer.from(`{"sub":"${id}"}`).toString('base64url')}.sig`],
        ]),
        body: '',
      };
    },
    () => {
      const name = `${pick(r, FIRST)} ${pick(r, LAST)}`;
      const body = JSON.stringify({
        name,
        email: `${name.split(' ')[0]!.toLowerCase()}@example.org`,
        address: { city: pick(r, CITIES), zip: String(10000 + Math.floor(r() * 89999)) },
        tags: ['newsletter', pick(r, ['vip', 'new', 'returning'])],
        note: pick(r, SENTENCES),
      });
      return {
        method: 'POST',
        uri: '/api/v1/customers',
        headers: [
          ['Content-Type', 'application/json'],
          ['Accept', 'application/json'],
          ['User-Agent', pick(r, UA)],
        ],
        body,
      };
    },
    () => {
      const body = JSON.stringify({
        items: [{ sku: `SKU-${Math.floor(r() * 99999)}`, qty: 1 + Math.floor(r() * 3), title: pick(r, PRODUCTS) }],
        coupon: pick(r, ['', 'SPRING10', 'WELCOME']),
        gift: r() > 0.7,
        message: pick(r, SENTENCES),
      });
      return {
        method: pick(r, ['POST', 'PUT', 'PATCH']),
        uri: `/api/v1/carts/${Math.floor(r() * 99999)}`,
        headers: [
          ['Content-Type', 'application/json; charset=utf-8'],
          ['User-Agent', pick(r, UA)],
          ['X-Request-Id', `req-${Math.floor(r() * 1e9)}`],
        ],
        body,
      };
    },
    () => ({
      method: 'GET',
      uri: `/search?q=${encodeURIComponent(pick(r, [...PRODUCTS, 'best running shoes for flat feet', 'how to descale an espresso machine', 'chaussures de course', 'Kaffeemaschine günstig', 'ワイヤレスマウス', '无线鼠标', 'рюкзак 30 л']))}&page=${1 + Math.floor(r() * 5)}&sort=${pick(r, ['price_asc', 'relevance', 'newest'])}`,
      headers: browserHeaders(r),
      body: '',
    }),
    () => ({
      method: 'POST',
      uri: '/contact',
      headers: browserHeaders(r, [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Referer', 'https://shop.example.com/contact'],
      ]),
      body: form({
        name: `${pick(r, FIRST)} ${pick(r, LAST)}`,
        email: 'customer@example.net',
        subject: pick(r, ['Order question', 'Return request', 'Feedback', 'Invoice']),
        message: `${pick(r, SENTENCES)} ${pick(r, SENTENCES)}`,
      }),
    }),
    () => ({
      method: 'POST',
      uri: '/reviews',
      headers: browserHeaders(r, [['Content-Type', 'application/x-www-form-urlencoded']]),
      body: form({
        product: pick(r, PRODUCTS),
        rating: String(1 + Math.floor(r() * 5)),
        title: pick(r, ['Love it', 'Decent', 'Not as expected', 'Excellent value', 'Très bien']),
        text: pick(r, SENTENCES),
      }),
    }),
    () => {
      const b = `----WebKitFormBoundary${Math.floor(r() * 1e12).toString(36)}`;
      const name = pick(r, ['holiday photo.jpg', 'CV_2024.pdf', 'notes.txt', 'report-Q3.csv', 'résumé.docx']);
      const content = name.endsWith('.csv')
        ? 'date,amount\n2024-01-02,12.50\n2024-01-03,7.20\n'
        : name.endsWith('.txt')
          ? `${pick(r, SENTENCES)}\n`
          : Buffer.from(Array.from({ length: 64 }, () => 32 + Math.floor(r() * 90))).toString('latin1');
      const body = `--${b}\r\nContent-Disposition: form-data; name="title"\r\n\r\n${pick(r, ['My upload', 'Application documents', 'Expense report'])}\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n${content}\r\n--${b}--\r\n`;
      return { method: 'POST', uri: '/upload', headers: browserHeaders(r, [['Content-Type', `multipart/form-data; boundary=${b}`]]), body };
    },
    () => {
      const q = pick(r, [
        'query GetProduct($id: ID!) { product(id: $id) { id name price { amount currency } reviews(first: 5) { edges { node { rating text } } } } }',
        'mutation AddToCart($input: AddToCartInput!) { addToCart(input: $input) { cart { id totalQuantity } } }',
        'query Orders { viewer { orders(last: 10) { nodes { id status createdAt } } } }',
      ]);
      return {
        method: 'POST',
        uri: '/graphql',
        headers: [
          ['Content-Type', 'application/json'],
          ['User-Agent', pick(r, UA)],
          ['Apollo-Require-Preflight', 'true'],
        ],
        body: JSON.stringify({
          operationName: null,
          query: q,
          variables: { id: String(Math.floor(r() * 1e6)), input: { sku: 'SKU-1', quantity: 2 } },
        }),
      };
    },
    () => ({
      method: 'GET',
      uri: pick(r, [
        '/',
        '/index.html',
        '/assets/app.3f9c2b.js',
        '/static/css/main.css',
        '/images/logo.svg',
        '/favicon.ico',
        '/robots.txt',
        '/blog/2024/05/spring-collection',
        '/products/standing-desk?color=oak&size=140x70',
        '/fr/produits/bureau-debout',
        '/de/warenkorb',
        '/ja/%E5%95%86%E5%93%81',
      ]),
      headers: browserHeaders(r, [['If-None-Match', `"${Math.floor(r() * 1e9).toString(16)}"`]]),
      body: '',
    }),
    () => ({
      method: 'POST',
      uri: '/login',
      headers: browserHeaders(r, [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Origin', 'https://shop.example.com'],
      ]),
      body: form({
        username: `${pick(r, FIRST).toLowerCase()}.${pick(r, LAST).toLowerCase()}`,
        password: `${pick(r, ['Summer', 'Blue', 'Horse'])}${Math.floor(r() * 1000)}!x`,
        remember: 'on',
        csrf_token: Math.floor(r() * 1e15).toString(36),
      }),
    }),
    () => ({
      method: 'DELETE',
      uri: `/api/v1/sessions/${Math.floor(r() * 1e9).toString(36)}`,
      headers: [
        ['Authorization', 'Bearer abc.def.ghi'],
        ['User-Agent', pick(r, UA)],
      ],
      body: '',
    }),
    () => ({
      method: 'GET',
      uri: `/api/v1/reports?from=2024-0${1 + Math.floor(r() * 9)}-01&to=2024-12-31&group_by=week&currency=EUR&filter=${encodeURIComponent(`status:${pick(r, ['paid', 'open'])} AND country:${pick(r, ['DE', 'FR', 'JP'])}`)}`,
      headers: [
        ['Accept', 'application/json'],
        ['User-Agent', pick(r, UA)],
      ],
      body: '',
    }),
    () => ({
      method: 'POST',
      uri: '/comments',
      headers: [
        ['Content-Type', 'application/json'],
        ['User-Agent', pick(r, UA)],
      ],
      body: JSON.stringify({
        postId: Math.floor(r() * 1000),
        author: pick(r, FIRST),
        text: `${pick(r, SENTENCES)} — ${pick(r, SENTENCES)}`,
      }),
    }),
  ];
  for (let i = 0; i < count; i++) out.push({ ...makers[i % makers.length]!(), id: `benign-${i + 1}` });
  return out;
}
