/**
 * Credentials and TLS to a real NATS cluster: the quickstart app, its groups
 * on three hosts that share only the cluster, completes with the right
 * credentials; wrong ones end the run with TRANSPORT_AUTH, a clear line and
 * a non-zero exit, without restarting groups that cannot mend it.
 */
import assert from "node:assert/strict";
import { NatsTransport } from "../../src/transport/nats.ts";
import { isTransportError } from "../../src/transport/transport_error.ts";
import { deno, splitRunArgs } from "../_deno.ts";
import { generateTestCertificate } from "../transport/_x509.ts";
import {
  NATS_SERVER_AVAILABLE,
  NATS_SKIP_REASON,
  type NatsServerOptions,
  startNatsCluster,
  startNatsServer,
} from "./_nats_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ignore = !NATS_SERVER_AVAILABLE;
const why = ignore ? ` (skipped: ${NATS_SKIP_REASON})` : "";

function topology(nats: string): string {
  return `topology:
  mode: hybrid
  process_groups:
    g_alpha: { actors: [reader], host: alpha }
    g_beta: { actors: [splitter, counter], host: beta }
    g_gamma: { actors: [reporter], host: gamma }
nats:
${nats}
`;
}

/** The quickstart app split over the cluster; its stdout and stderr as one `text`. */
async function quickstart(dir: string, yaml: string): Promise<{ code: number; text: string }> {
  await Deno.writeTextFile(`${dir}/t.yaml`, yaml);
  const r = await deno(
    splitRunArgs(dir, "examples/quickstart/main.ts", ["--lines", "60"]),
    ROOT,
  );
  return { code: r.code, text: `${r.stdout}\n${r.stderr}` };
}

async function withServer(
  options: NatsServerOptions,
  f: (url: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_nats_auth_" });
  const server = await startNatsServer(options);
  try {
    await f(server.url, dir);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: `NATS token: the right one completes, a wrong one exits non-zero with TRANSPORT_AUTH${why}`,
  ignore,
  fn: () =>
    withServer({ token: "s3cret-token" }, async (url, dir) => {
      const good = await quickstart(dir, topology(`  servers: [${url}]\n  token: s3cret-token`));
      assert.equal(good.code, 0, good.text);
      assert.match(good.text, /^ {2}completed +yes/m);
      const bad = await quickstart(dir, topology(`  servers: [${url}]\n  token: wrong-token`));
      assert.notEqual(bad.code, 0, bad.text);
      assert.match(
        bad.text,
        /the NATS servers at nats:\/\/127\.0\.0\.1:\d+ refused this deployment's credentials \(token\): .*; fix token, user\/password, nkey or creds under nats: in the topology \[TRANSPORT_AUTH\]/,
      );
      // A refused credential is not restarted: one start per group.
      assert.doesNotMatch(bad.text, /restarting in/);
      assert.match(bad.text, /exited with exit code 31, which restarting cannot fix/);
    }),
});

Deno.test({
  name: `NATS user and password: the right pair completes, a wrong password is refused${why}`,
  ignore,
  fn: () =>
    withServer({ user: { name: "app", password: "pw-1" } }, async (url, dir) => {
      const creds = (pw: string) => `  servers: [${url}]\n  user: app\n  password: ${pw}`;
      const good = await quickstart(dir, topology(creds("pw-1")));
      assert.equal(good.code, 0, good.text);
      const bad = await quickstart(dir, topology(creds("pw-2")));
      assert.notEqual(bad.code, 0, bad.text);
      assert.match(bad.text, /credentials \(user\).*\[TRANSPORT_AUTH\]/);
    }),
});

Deno.test({
  name:
    `NATS TLS: groups reach a 3-node cluster over TLS with the CA; without it they refuse${why}`,
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mycelium_nats_tls_" });
    const pems = await generateTestCertificate();
    await Deno.writeTextFile(`${dir}/ca.pem`, pems.ca);
    await Deno.writeTextFile(`${dir}/cert.pem`, pems.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pems.key);
    const cluster = await startNatsCluster(3, {
      tls: { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` },
    });
    try {
      const servers = cluster.urls.map((u) => u.replace("nats://", "tls://")).join(", ");
      const good = await quickstart(
        dir,
        topology(`  servers: [${servers}]\n  tls: { ca: ${dir}/ca.pem }`),
      );
      assert.equal(good.code, 0, good.text);
      assert.match(good.text, /^ {2}completed +yes/m);
      // Without the CA, the servers' certificate is not trusted: a typed error, no connection.
      await assert.rejects(
        NatsTransport.connect({
          servers: cluster.urls.map((u) => u.replace("nats://", "tls://")),
          tls: { caFile: undefined, certFile: undefined, keyFile: undefined },
          timeoutMs: 2000,
        }),
        (e) =>
          isTransportError(e, "TRANSPORT_CONNECT") &&
          /cannot reach any NATS server/.test(e.message),
      );
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
