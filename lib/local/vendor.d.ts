// Minimal types for the two stand-in servers and the States Language validator, which ship none.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    updateTableMs?: number;
    deleteTableMs?: number;
    maxItemSizeKb?: number;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}

// The store dynalite builds, as far as lib/local/dynalite-tables.ts reads and wraps it.
declare module 'dynalite/db/index.js' {
  type Callback<T> = (error: Error | null | undefined, value?: T) => void;
  export interface DynaliteSubDb {
    get(key: string, callback: Callback<unknown>): void;
    put(key: string, value: unknown, callback?: (error?: Error | null) => void): void;
    del(key: string, callback?: (error?: Error | null) => void): void;
  }
  export interface DynaliteStore {
    readonly tableDb: DynaliteSubDb;
    readonly lifecycleManager?: { getState?(): string };
  }
  const store: { create(options: object): DynaliteStore };
  export default store;
}

// dynalite's PEG expression parsers, which lib/local/dynalite-expressions.ts memoizes.
declare module 'dynalite/db/conditionParser.js' {
  const parser: { parse(input: string, options?: { context?: object }): unknown };
  export default parser;
}
declare module 'dynalite/db/updateParser.js' {
  const parser: { parse(input: string, options?: { context?: object }): unknown };
  export default parser;
}

declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    port?: number;
    address?: string;
    directory?: string;
    silent?: boolean;
    resetOnClose?: boolean;
  }
  export default class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}

declare module 'asl-validator' {
  interface AslValidatorOptions {
    checkPaths?: boolean;
    checkArn?: boolean;
  }
  interface AslValidation {
    isValid: boolean;
    errorsText(separator?: string): string;
  }
  export default function aslValidator(definition: unknown, options?: AslValidatorOptions): AslValidation;
}
