/**
 * The key-value service from its command line, end to end, as real child
 * processes: a monolith and a split run (shards in processes of their own,
 * over Unix sockets and TCP) serve until SIGTERM, exit 0, and end with the
 * same figures and the same store.
 */
import assert from "node:assert/strict";
import { freePort, ROOT, runUntilFinished } from "./_kv_cli.ts";

const PARAMS = ["--clients", "5", "--requests", "100", "--seed", "3", "--keys", "8"];
const ENV = "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM";

/** The app's report lines: what must not depend on the deployment or on timing. */
function results(stdout: string): string[] {
  return stdout.split("\n").filter((l) =>
    /^ {2}(clients|requests|shards|store) /.test(l) || /^ {16}kv_shard_/.test(l)
  );
}

/** Each actor's name, handled and failed, from the printed actor table. */
function actorCounts(stdout: string): string[] {
  return stdout.split("\n")
    .filter((l) => /^kv_\w+ +\w+ +mailbox +\d+ /.test(l))
    .map((l) => {
      const [name, _group, _delivery, handled, _rate, failed] = l.split(/ +/);
      return `${name} ${handled} ${failed}`;
    });
}

Deno.test("kv run of split.yaml serves from five processes until SIGTERM and ends with the monolith's store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv_split_" });
  try {
    const mono = await runUntilFinished(
      ["examples/kv/config/dev.yaml", ...PARAMS],
      ["--allow-read", ENV],
    );
    assert.equal(mono.code, 0, mono.stderr);

    const split = (await Deno.readTextFile(`${ROOT}examples/kv/config/split.yaml`))
      .replace(/endpoint: "127\.0\.0\.1:\d+"/, `endpoint: "127.0.0.1:${freePort()}"`);
    await Deno.writeTextFile(`${dir}/split.yaml`, split);
    const sockets = `${dir}/sockets`;
    await Deno.mkdir(sockets);
    await Deno.chmod(sockets, 0o700);
    const run = await runUntilFinished(
      [`${dir}/split.yaml`, "--all-hosts", "--socket-dir", sockets, ...PARAMS],
      [
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-net",
        `--allow-run=${Deno.execPath()}`,
        ENV,
      ],
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /hybrid, 5 process groups \(front, clients, shard_0, shard_1, shard_2\)/,
    );
    assert.equal((run.stderr.match(/exited with code 0 .*\(asked to stop\)$/gm) ?? []).length, 5);
    assert.match(run.stderr, /^clients +\| kv: every client finished/m);

    assert.equal(run.finished, mono.finished);
    assert.match(mono.finished, /^5 clients, 500 requests, 500 replies, 0 mismatches, 0 errors; /);
    assert.match(mono.finished, /agrees with the clients' models$/);
    assert.deepEqual(results(run.stdout), results(mono.stdout));
    assert.equal(results(mono.stdout).length, 6);
    assert.match(mono.stdout, /^ {2}requests +500 sent, 500 replied; 0 mismatches, 0 errors$/m);
    const store = /^ {2}store .*checksum ([0-9a-f]{16}); agrees with the clients' models$/m;
    assert.match(mono.stdout, store);
    assert.ok(mono.finished.includes(`checksum ${store.exec(mono.stdout)![1]}`));
    assert.deepEqual(actorCounts(run.stdout), actorCounts(mono.stdout));
    assert.equal(actorCounts(mono.stdout).length, 7);
    assert.match(run.stdout, /completed +yes; shutdown drained/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
