#!/bin/sh
# Rebuild static/vendor/codemirror.bundle.js from frontend/editor.js.
# Needs Node.js 20+ and npm; installs exactly what package-lock.json pins (npm ci), bundles
# with esbuild into one minified ES module and writes a banner naming every bundled package,
# its version and its licence. The result is committed: the site never runs npm.
set -eu
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund
out=static/vendor/codemirror.bundle.js
mkdir -p static/vendor

# The banner lists the packages esbuild actually pulled in (from its metafile).
meta=$(mktemp)
trap 'rm -f "$meta"' EXIT
npx --no-install esbuild frontend/editor.js --bundle --format=esm --minify \
  --target=es2020 --legal-comments=none --metafile="$meta" --outfile="$out.tmp"

banner=$(node -e '
const fs = require("fs");
const meta = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const names = new Set();
for (const input of Object.keys(meta.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) names.add(m[1]);
}
const lines = [...names].sort().map((name) => {
  const pkg = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8"));
  return ` *   ${name}@${pkg.version} (${pkg.license})`;
});
const esbuild = JSON.parse(fs.readFileSync("node_modules/esbuild/package.json", "utf8")).version;
console.log([
  "/*!",
  " * PodLab editor bundle: CodeMirror 6 with YAML and lint, built from frontend/editor.js",
  ` * by scripts/build-vendor.sh with esbuild ${esbuild}. Do not edit; rebuild instead.`,
  " * Bundled packages (name@version, licence):",
  ...lines,
  " * CodeMirror and Lezer: Copyright (C) 2018-2021 by Marijn Haverbeke <marijn@haverbeke.berlin>",
  " * and others, MIT licence; style-mod, w3c-keyname, crelt: MIT licence.",
  " */",
].join("\n"));
' "$meta")

{ printf '%s\n' "$banner"; cat "$out.tmp"; } >"$out"
rm -f "$out.tmp"
echo "wrote $out ($(wc -c <"$out") bytes)"
