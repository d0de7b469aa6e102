import type { Server } from 'node:http';
import dynalite from 'dynalite';
import dynaliteStore, { type DynaliteStore, type DynaliteSubDb } from 'dynalite/db/index.js';

type DynaliteOptions = NonNullable<Parameters<typeof dynalite>[0]>;

/**
 * dynalite, with its table descriptions kept in memory as well as in LevelDB.
 *
 * dynalite reads the description of the table from LevelDB on every request (`getTable`, before each
 * GetItem, PutItem, UpdateItem, DeleteItem, Query), a read that costs the command's main thread as much
 * as the item's own. A description only changes through dynalite's own writes to its `table` store
 * (CreateTable, UpdateTable, DeleteTable, and the timers that make them ACTIVE or gone), and this process
 * is the only one with the LevelDB open (LevelDB locks its directory), so a copy of each description,
 * replaced on every write, answers as LevelDB would.
 *
 * How: dynalite builds its store with `require('./db').create(options)` inside `dynalite(options)`,
 * synchronously. That export is swapped for the length of the call, to keep the store it makes; the
 * store's `tableDb` is then wrapped (see `cacheTableDescriptions`). Should a later dynalite build its
 * store another way, nothing is wrapped and every read goes to LevelDB, as before.
 */
export function startDynalite(options: DynaliteOptions): Server {
  const create = dynaliteStore.create;
  let store: DynaliteStore | undefined;
  dynaliteStore.create = (storeOptions) => {
    store = create(storeOptions);
    return store;
  };
  try {
    const server = dynalite(options);
    if (store) cacheTableDescriptions(store);
    return server;
  } finally {
    dynaliteStore.create = create;
  }
}

/**
 * Answers `tableDb.get` from memory once a description was read or written. Each answer is parsed
 * afresh from the JSON LevelDB would hold (dynalite's `valueEncoding: 'json'`), so a caller that changes
 * the object it got (UpdateTable does, before it writes) changes no one else's, exactly as with LevelDB.
 * A write (`put`, `del`) replaces the copy when it is made; a read from LevelDB that was under way then
 * is not kept, since it may hold the older value.
 */
export function cacheTableDescriptions(store: DynaliteStore): void {
  const tables: DynaliteSubDb = store.tableDb;
  const get = tables.get.bind(tables);
  const put = tables.put.bind(tables);
  const del = tables.del.bind(tables);
  /** Each description as LevelDB holds it (JSON), by table name. */
  const copies = new Map<string, string>();
  /** Writes made so far, by table name: a read from LevelDB started before the last one is stale. */
  const writes = new Map<string, number>();
  const written = (name: string) => writes.set(name, (writes.get(name) ?? 0) + 1);
  // A closed store answers "Database is closed"; LevelDB gives that answer, not the copy.
  const open = () => store.lifecycleManager?.getState?.() !== 'closed';

  tables.get = (name, callback) => {
    const copy = copies.get(name);
    if (copy !== undefined && open()) {
      // LevelDB's answer comes on a later turn of the event loop (dynalite's setImmediate); so does this.
      setImmediate(callback, null, JSON.parse(copy));
      return;
    }
    const started = writes.get(name) ?? 0;
    get(name, (error, value) => {
      if (!error && value !== undefined && (writes.get(name) ?? 0) === started)
        copies.set(name, JSON.stringify(value));
      callback(error, value);
    });
  };
  tables.put = (name, value, callback) => {
    written(name);
    copies.set(name, JSON.stringify(value));
    put(name, value, (error) => {
      if (error) copies.delete(name); // what LevelDB holds is not known: read it again
      callback?.(error);
    });
  };
  tables.del = (name, callback) => {
    written(name);
    copies.delete(name);
    del(name, callback);
  };
}
