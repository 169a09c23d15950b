// Build the query page's editor bundle: server/static/query.js, and next to it the
// licences of every npm package bundled into it (query.js.LICENSES.txt).
// Run with `make assets` (npm ci, then node server/assets/build.mjs).
import { build } from "esbuild";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(root, "server", "static", "query.js");
const result = await build({
  entryPoints: [join(root, "server", "assets", "query.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  metafile: true,
  outfile: out,
  logLevel: "warning",
});

const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.set(match[1], join(root, "node_modules", match[1]));
}
const sections = [...packages.keys()].sort().map((name) => {
  const dir = packages.get(name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE"].find((f) =>
    existsSync(join(dir, f)),
  );
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `License: ${meta.license}`;
  return `${name}@${meta.version} (${meta.license})\n\n${text}\n`;
});
writeFileSync(
  out + ".LICENSES.txt",
  "Third-party code bundled into query.js (built by server/assets/build.mjs):\n\n" +
    sections.join("\n" + "-".repeat(72) + "\n\n"),
);
const size = readFileSync(out).length;
console.log(`server/static/query.js: ${(size / 1024).toFixed(1)} KiB, ${packages.size} packages`);
