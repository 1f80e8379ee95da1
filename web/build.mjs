// Bundles the workbench page (src/main.js and the npm packages it imports, at the versions
// package-lock.json pins) into one file shipped inside the Python package, so that installing
// rplang needs no Node. `node build.mjs [OUTFILE]`: tests/workbench/test_bundle.py builds into
// a temporary file and checks the shipped bundle is byte for byte what the sources build.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const outfile = process.argv[2] || here("../rplang/workbench/static/workbench.js");

await esbuild.build({
  entryPoints: [here("src/main.js")],
  bundle: true,
  format: "iife",
  minify: true,
  legalComments: "none",
  target: "es2020",
  charset: "utf8",
  outfile,
  logLevel: "warning",
});
