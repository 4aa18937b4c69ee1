// Bundle the package with pusher-js into one ES module, for pages that do not bundle: `waxos serve`
// serves it at /static/waxos-realtime.js. Run by scripts/setup (via `npm run build`) when a source changed.
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

await build({
  entryPoints: [here("src/index.js")],
  outfile: here("../../src/waxos/static/waxos-realtime.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "inline",
  banner: { js: "// @waxos/realtime with pusher-js (MIT): built from clients/js by `npm run build`." },
  logLevel: "warning",
});
