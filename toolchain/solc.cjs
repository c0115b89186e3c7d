#!/usr/bin/env node
// A solc-compatible command line over the npm `solc` package (solc-js, WebAssembly).
//
// Why: this project's machines reach PyPI, npm and Debian only, and no native solc is published
// there. py-solc-x (used by ape-solidity) and forge call a native `solc` executable; this file
// implements the subset of that command line they use, so both compile through solc-js:
//   --version                      version banner that py-solc-x and forge parse
//   --standard-json                Standard JSON in on stdin, Standard JSON out on stdout (only)
//   --base-path/--include-path/--allow-paths   where imports are looked up
//   --combined-json a,b,c FILE...  for tools (slither) that compile bare files; prefix=target
//                                  arguments are import remappings (slither's --solc-remaps)
// Any other flag is accepted and ignored, so a caller's extra options never break a build.
'use strict';

const fs = require('fs');
const path = require('path');

function loadCompiler() {
  // Resolve the npm package from the project that installed this shim, not from the caller's cwd.
  const projectRoot = process.env.UNWIND_ROOT || path.resolve(__dirname, '..');
  const modulePath = require.resolve('solc', { paths: [projectRoot, __dirname] });
  return require(modulePath);
}

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], allowPaths: [], files: [], flags: new Set(), combined: null, remappings: [] };
  const takesValue = new Set([
    '--base-path', '--include-path', '--allow-paths', '--combined-json', '--output-dir', '-o',
    '--evm-version', '--optimize-runs', '--libraries', '--model-checker-engine', '--pretty-json',
    '--revert-strings', '--debug-info', '--error-codes', '--metadata-hash', '--stop-after',
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      value = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    } else if (takesValue.has(arg) && i + 1 < argv.length && arg !== '--pretty-json') {
      value = argv[++i];
    }
    switch (arg) {
      case '--base-path': opts.basePath = value; break;
      case '--include-path': opts.includePaths.push(value); break;
      case '--allow-paths': opts.allowPaths.push(...String(value).split(',').filter(Boolean)); break;
      case '--combined-json': opts.combined = String(value).split(','); break;
      default:
        if (arg.startsWith('-')) opts.flags.add(arg);
        else if (arg.includes('=') && !arg.startsWith('/')) { /* remapping prefix=target */ opts.remappings.push(arg); }
        else opts.files.push(arg);
    }
  }
  return opts;
}

function makeReader(opts) {
  const roots = [opts.basePath, ...opts.includePaths, ...opts.allowPaths, process.cwd()]
    .filter(Boolean)
    .map((p) => path.resolve(p));
  return function findImports(sourceUnitName) {
    const candidates = path.isAbsolute(sourceUnitName)
      ? [sourceUnitName]
      : roots.map((root) => path.join(root, sourceUnitName));
    for (const candidate of candidates) {
      try {
        if (fs.statSync(candidate).isFile()) return { contents: fs.readFileSync(candidate, 'utf8') };
      } catch (_) { /* try the next root */ }
    }
    return { error: `File not found: ${sourceUnitName} (looked in: ${roots.join(', ')})` };
  };
}

function readStdin() {
  return fs.readFileSync(0, 'utf8');
}

function standardJson(solc, opts) {
  const input = readStdin();
  const output = solc.compile(input, { import: makeReader(opts) });
  process.stdout.write(output);
  return 0;
}

function combinedJson(solc, opts) {
  // Emulates `solc --combined-json abi,ast,bin,... FILE...` on top of Standard JSON.
  const wanted = new Set(opts.combined);
  const sources = {};
  for (const file of opts.files) {
    sources[file] = { content: fs.readFileSync(file, 'utf8') };
  }
  const outputSelection = { '*': { '': ['ast'], '*': ['abi', 'evm.bytecode', 'evm.deployedBytecode', 'metadata', 'userdoc', 'devdoc', 'evm.methodIdentifiers', 'storageLayout'] } };
  const input = { language: 'Solidity', sources, settings: { outputSelection, remappings: opts.remappings } };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: makeReader(opts) }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  for (const e of out.errors || []) process.stderr.write((e.formattedMessage || e.message) + '\n');
  if (errors.length) return 1;
  const result = { contracts: {}, sourceList: Object.keys(out.sources || {}), sources: {}, version: solc.version() };
  for (const [file, src] of Object.entries(out.sources || {})) {
    result.sources[file] = wanted.has('ast') ? { AST: src.ast, id: src.id } : { id: src.id };
  }
  for (const [file, contracts] of Object.entries(out.contracts || {})) {
    for (const [name, c] of Object.entries(contracts)) {
      const entry = {};
      if (wanted.has('abi')) entry.abi = c.abi;
      if (wanted.has('bin')) entry.bin = c.evm.bytecode.object;
      if (wanted.has('bin-runtime')) entry['bin-runtime'] = c.evm.deployedBytecode.object;
      if (wanted.has('srcmap')) entry.srcmap = c.evm.bytecode.sourceMap;
      if (wanted.has('srcmap-runtime')) entry['srcmap-runtime'] = c.evm.deployedBytecode.sourceMap;
      if (wanted.has('hashes')) entry.hashes = c.evm.methodIdentifiers;
      if (wanted.has('metadata')) entry.metadata = c.metadata;
      if (wanted.has('userdoc')) entry.userdoc = c.userdoc;
      if (wanted.has('devdoc')) entry.devdoc = c.devdoc;
      if (wanted.has('storage-layout')) entry['storage-layout'] = c.storageLayout;
      result.contracts[`${file}:${name}`] = entry;
    }
  }
  process.stdout.write(JSON.stringify(result));
  return 0;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.flags.has('--help') || opts.flags.has('-h')) {
    process.stdout.write('usage: solc --version | --standard-json [--base-path P] [--include-path P] [--allow-paths P,...] | --combined-json abi,ast,... FILE...\n');
    return 0;
  }
  const solc = loadCompiler();
  if (opts.flags.has('--version') || opts.flags.has('-v')) {
    process.stdout.write('solc, the solidity compiler commandline interface\n');
    process.stdout.write(`Version: ${solc.version()}\n`);
    return 0;
  }
  if (opts.flags.has('--standard-json')) return standardJson(solc, opts);
  if (opts.combined) return combinedJson(solc, opts);
  process.stderr.write('solc (solc-js shim): nothing to do; use --version, --standard-json or --combined-json\n');
  return 1;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`solc (solc-js shim): ${err && err.message ? err.message : err}\n`);
  process.exitCode = 1;
}
