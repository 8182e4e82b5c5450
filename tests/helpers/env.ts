// Where the tests' Supabase is: provided once by the global setup.
import { inject } from 'vitest';

export interface StackEnv {
  url: string;
  dbUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  jwtSecret: string;
  /** True when the target is the embedded stack this test run started. */
  embedded: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEnv;
  }
}

export const stackEnv = (): StackEnv => inject('stack');
