#!/usr/bin/env node
// Makes the npm solc-js build answer like a native solc binary for py-solc-x and brownie:
// `--version` and `--standard-json` (stdin -> stdout, JSON only). Imports are read from disk,
// relative to the working directory, --base-path and each --allow-paths entry.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(process.env.HALLMARK_SOLCJS || 'solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  // py-solc-x parses "Version: x.y.z+commit.hash..."
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('this solc is solc-js behind a shim: only --version and --standard-json are supported\n');
  process.exit(1);
}

const roots = [process.cwd()];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--allow-paths') {
    for (const p of String(args[i + 1] || '').split(',')) if (p) roots.push(path.resolve(p));
  }
}

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
  for (const file of candidates) {
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, 'utf8') };
  }
  return { error: `File not found: ${importPath} (looked in ${roots.join(', ')})` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
