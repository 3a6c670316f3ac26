// An HTTP API under an open-model ramp: users arrive, browse an item, sometimes post.
// Run it:  npx loadfarm run examples/http.ts --target http://127.0.0.1:8080 --workers 3
import { defineScenario } from 'loadfarm';

export default defineScenario({
  name: 'http-api',
  target: 'http://127.0.0.1:8080',
  load: {
    phases: [
      { name: 'warm up', duration: '5s', arrivalRate: 10, rampTo: 50 },
      { name: 'steady', duration: '10s', arrivalRate: 50 },
    ],
    maxUsers: 500,
  },
  thresholds: {
    'http.GET /items/:id': ['p(99) < 250'],
    errors: ['rate < 0.01'],
  },
  async user(u) {
    const home = await u.http.get('/');
    u.check('home is ok', home.status === 200);
    await u.think(0.05, 0.2);
    // Name URLs that carry ids, so that each id does not become a metric of its own.
    const item = await u.http.get(`/items/${u.rng.int(1, 1000)}`, { name: '/items/:id' });
    u.check('item has an id', item.json<{ id: string }>().id !== undefined);
    if (u.rng.bool(0.2)) await u.http.post('/echo', { user: u.id, at: Date.now() });
  },
});
