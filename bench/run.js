// The benchmark harness arrives with its own issue (bench/README.md will describe it).
// Until then `npm run bench` says so and succeeds, so scripts that call it keep working.
console.log('ShopFlow benchmarks: none yet (see the benchmarks issue); nothing measured.');
