// Which functions exist and what version of their files is on disk. As with
// `supabase functions serve`, a function is a folder of `supabase/functions/`
// with an `index.ts` (or the `entrypoint` of its `[functions.<name>]` section);
// folders starting with `_` or `.` are shared code, not functions.
import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Toml } from '../../config.ts';

export interface FunctionDef {
  name: string;
  /** Absolute path of the module that calls `Deno.serve`. */
  entrypoint: string;
  verifyJwt: boolean;
  /** The Deno config (import map) of `import_map`, else the functions folder's deno.json, or null. */
  denoConfig: string | null;
  /** Changes whenever a file the function may load changes (its folder or the shared files). */
  fingerprint: string;
}

/** Files whose change never affects a running function (Deno rewrites its lockfile itself). */
const IGNORED = new Set(['deno.lock', 'node_modules', '.DS_Store']);

async function fingerprintOf(target: string): Promise<string> {
  const parts: string[] = [];
  async function walk(p: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(p, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (IGNORED.has(e.name)) continue;
      const full = path.join(p, e.name);
      if (e.isDirectory()) await walk(full);
      else {
        const s = await stat(full).catch(() => null);
        if (s) parts.push(`${full}:${s.mtimeMs}:${s.size}`);
      }
    }
  }
  await walk(target);
  return parts.sort().join('|');
}

/** Valid function names, as the CLI accepts them (also keeps paths inside the folder). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** The function `name` as it is on disk now, or null when there is none. */
export async function lookupFunction(functionsDir: string, toml: Toml, name: string): Promise<FunctionDef | null> {
  if (!NAME.test(name)) return null;
  const section = toml.functions?.[name] ?? {};
  if (section.enabled === false) return null;
  const dir = path.join(functionsDir, name);
  const entrypoint = section.entrypoint ? path.resolve(path.dirname(functionsDir), section.entrypoint) : path.join(dir, 'index.ts');
  const configFile = section.import_map ? path.resolve(path.dirname(functionsDir), section.import_map) : path.join(functionsDir, 'deno.json');
  const [dirStat, entryStat, configStat] = await Promise.all([stat(dir).catch(() => null), stat(entrypoint).catch(() => null), stat(configFile).catch(() => null)]);
  if (!dirStat?.isDirectory() || !entryStat?.isFile()) return null;

  // Shared code: every file of the functions folder outside the function folders.
  const shared: string[] = [];
  for (const e of await readdir(functionsDir, { withFileTypes: true })) {
    if (IGNORED.has(e.name)) continue;
    const full = path.join(functionsDir, e.name);
    if (e.isDirectory() && (e.name.startsWith('_') || e.name.startsWith('.'))) shared.push(await fingerprintOf(full));
    else if (e.isFile()) shared.push(`${full}:${(await stat(full).catch(() => null))?.mtimeMs}`);
  }
  return { name, entrypoint, verifyJwt: section.verify_jwt !== false, denoConfig: configStat?.isFile() ? configFile : null, fingerprint: `${await fingerprintOf(dir)}#${shared.join('|')}` };
}

/** Folders whose changes never matter to a function (Deno's caches). */
export const IGNORED_BY_WATCH = new Set(['node_modules', '.git']);

/**
 * Tells whether anything under a folder changed since a moment: one inotify
 * watch per directory (armed on demand, dropped at the first change, so new
 * directories are watched from the next arm). When watching fails, every
 * moment counts as changed, so callers fall back to looking every time.
 */
export class FolderWatch {
  private watchers: FSWatcher[] = [];
  private version = 0;
  private armed = false;
  private listeners: Array<() => void> = [];
  private closed = false;

  constructor(private readonly root: string, private readonly ignored: Set<string>) {}

  /** Starts watching if not already; returns the current version. */
  arm(): number {
    if (!this.armed && !this.closed) {
      this.armed = true;
      try {
        this.watchDir(this.root);
      } catch {
        this.changed();
      }
    }
    return this.version;
  }

  unchangedSince(version: number): boolean {
    return this.armed && this.version === version;
  }

  /** Calls `fn` once, at the next change. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  close(): void {
    this.closed = true;
    this.changed();
  }

  private watchDir(dir: string): void {
    const w = watch(dir, { persistent: false }, () => this.changed());
    w.on('error', () => this.changed());
    this.watchers.push(w);
    for (const e of readdirSyncSafe(dir)) if (e.isDirectory() && !this.ignored.has(e.name)) this.watchDir(path.join(dir, e.name));
  }

  private changed(): void {
    this.version++;
    this.armed = false;
    for (const w of this.watchers.splice(0)) w.close();
    for (const fn of this.listeners.splice(0)) fn();
  }
}

function readdirSyncSafe(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
