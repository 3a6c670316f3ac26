// Stand-in for dist/worker.js, shipped when the app was synthesized before `npm run build`:
// an environment deployed with it has machines but no load engine. Exits with code 1.
process.stderr.write(
  'loadfarm: this environment was deployed without a worker bundle (dist/worker.js was missing ' +
    'when the CDK app ran); run `npm run build` and deploy the environment again\n',
);
process.exit(1);
