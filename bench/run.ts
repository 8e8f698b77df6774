// The benchmark harness arrives with its own issue (bench/README.md will describe it).
// Until then `npm run bench` says so and succeeds, so scripts that call it keep working.
process.stdout.write('ShopFlow benchmarks: none yet (see the benchmarks issue); nothing measured.\n');
