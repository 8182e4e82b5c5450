// Finds the Deno binary of the pinned `deno` npm package. Its postinstall (which
// copies the binary into node_modules/deno) does not run under npm 11, so the
// binary is taken from the platform package `@deno/<platform>` it depends on.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { StackError } from '../../config.ts';

const require = createRequire(import.meta.url);

function platformPackage(): string {
  const arch = process.arch === 'x64' ? 'x64' : process.arch === 'arm64' ? 'arm64' : null;
  const os = process.platform === 'linux' ? 'linux' : process.platform === 'darwin' ? 'darwin' : process.platform === 'win32' ? 'win32' : null;
  if (!arch || !os) throw new StackError(`Deno has no build for ${process.platform}-${process.arch}`, 'run the stack on Linux, macOS or Windows (x64 or arm64)');
  return os === 'linux' ? `@deno/linux-${arch}-glibc` : `@deno/${os}-${arch}`;
}

let resolved: string | undefined;

export function denoBinary(): string {
  if (resolved) return resolved;
  const pkg = platformPackage();
  const exe = process.platform === 'win32' ? 'deno.exe' : 'deno';
  let candidate: string;
  try {
    candidate = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), exe);
  } catch {
    throw new StackError(`the Deno binary package ${pkg} is not installed`, 'run `npm ci` (the `deno` package installs it as an optional dependency)');
  }
  if (!existsSync(candidate)) throw new StackError(`${candidate} is missing`, 'reinstall with `npm ci`');
  resolved = candidate;
  return candidate;
}
