// Where does the API break? A stepped search: 20 arrivals/s, then +50% per step up to 5000/s,
// each step held 30 s and judged on the whole farm's merged data by the thresholds below; after
// the first step that breaks one, 2 more steps bisect between the last good and the first bad.
// Run it:  npx loadfarm run examples/find-limit.ts --target http://127.0.0.1:8080 --workers 3
// report.json `limit` says { sustained, brokeAt, reason, steps }; exit 0 when a limit was found
// (or 5000/s held), 99 when the first step already broke, 2 when the generator was the limit.
import { defineScenario } from 'loadfarm';

export default defineScenario({
  name: 'find-limit',
  target: 'http://127.0.0.1:8080',
  load: { find: { from: 20, to: 5000, step: '+50%', stepDuration: '30s', refine: 2 } },
  // Closed model instead: load: { find: { users: { from: 10, to: 2000, step: '+50%' }, stepDuration: '1m', refine: 2 } },
  thresholds: {
    'http.GET /items/:id': ['p(99) < 500'],
    errors: ['rate < 0.01'],
  },
  async user(u) {
    const item = await u.http.get(`/items/${u.rng.int(1, 1000)}`, { name: '/items/:id' });
    u.check('item is ok', item.status === 200);
  },
});
