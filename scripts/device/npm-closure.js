// Prints, one per line and relative to ROOT, the node_modules folders that PACKAGE... need at run
// time: each package with its dependencies, optional and peer dependencies that are installed,
// resolved the way Node does (nearest node_modules upwards). Used by scripts/device-kit.sh.
//   node scripts/device/npm-closure.js ROOT PACKAGE...
const fs = require('fs');
const path = require('path');

const [root, ...wanted] = process.argv.slice(2);
if (!root || wanted.length === 0) {
  console.error('usage: node npm-closure.js ROOT PACKAGE...');
  process.exit(2);
}
const seen = new Set();

function locate(name, fromDir) {
  for (let d = fromDir; ; d = path.dirname(d)) {
    const p = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (path.dirname(d) === d) return null;
  }
}

function visit(dir) {
  if (seen.has(dir)) return;
  seen.add(dir);
  const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const optional = { ...pj.optionalDependencies, ...pj.peerDependencies };
  for (const name of Object.keys({ ...pj.dependencies, ...optional })) {
    const p = locate(name, dir);
    if (p) visit(p);
    else if (!(name in optional)) throw new Error(`${pj.name} needs ${name}, which is not installed`);
  }
}

for (const name of wanted) {
  const p = locate(name, path.resolve(root));
  if (!p) {
    console.error(`npm-closure: ${name} is not installed under ${root}`);
    process.exit(1);
  }
  visit(p);
}
for (const d of seen) console.log(path.relative(path.resolve(root), d));
