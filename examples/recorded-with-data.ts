// A recorded journey fed with test data. Made in two steps:
//   1. npx loadfarm import har examples/data/shop.har -o shop.ts   (the journey as a browser recorded it)
//   2. the recorded account and product replaced by rows drawn from data files (below).
// Run it against the demo's HTTP target (POST /echo stands in for a login):
//   npx loadfarm run examples/recorded-with-data.ts --target http://127.0.0.1:8080 --workers 2
import { defineScenario, csv, ndjson } from 'loadfarm';

interface Account {
  id: number;
  email: string;
  password: string;
}
interface Product {
  id: number;
  name: string;
}

export default defineScenario({
  name: 'recorded-with-data',
  target: 'http://127.0.0.1:8080',
  data: {
    // Each account logs in once across the whole farm: 40 rows for the 20 users below.
    accounts: csv<Account>('./data/accounts.csv', { mode: 'unique', types: { id: 'number' } }),
    // Any product, picked with the user's seeded rng: the same --seed replays the same picks.
    products: ndjson<Product>('./data/products.ndjson', { mode: 'random' }),
  },
  load: { phases: [{ duration: '10s', arrivalRate: 2 }] },
  thresholds: { errors: ['rate < 0.01'] },
  async user(u) {
    const account = u.data.accounts.next<Account>();
    // 1. POST /echo → 200 (recorded with user1@example.com)
    const login = await u.http.post('/echo', { user: account.email, password: account.password }, { headers: { 'content-type': 'application/json' } });
    u.check('logged in as the drawn account', login.json<{ user: string }>().user === account.email);

    await u.think(0.3);
    // 2. GET /items/103 → 200 (recorded with product 103)
    const product = u.data.products.next<Product>();
    const authorization = 'Bearer demo-token'; // as recorded
    await u.http.get(`/items/${product.id}`, { name: '/items/:id', headers: { authorization } });
  },
});
