// `--s3-object BUCKET/KEY=LOCALFILE` where the key or the path holds `=` (Hive-style partitions).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseS3Object } from '../../lib/cli/commands.ts';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-s3-object-'));
const plain = join(dir, 'data.csv');
const withEquals = join(dir, 'run=1.csv');
writeFileSync(plain, 'a\n');
writeFileSync(withEquals, 'b\n');
mkdirSync(join(dir, 'folder'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--s3-object', () => {
  it('keeps every = of a partitioned key in the key', () => {
    expect(parseS3Object(`raw/orders/dt=2026-11-01/hour=02/x.csv=${plain}`)).toEqual({
      bucket: 'raw',
      key: 'orders/dt=2026-11-01/hour=02/x.csv',
      file: plain,
    });
  });

  it('finds a local file whose own name holds =', () => {
    expect(parseS3Object(`raw/in/x.csv=${withEquals}`)).toEqual({
      bucket: 'raw',
      key: 'in/x.csv',
      file: withEquals,
    });
  });

  it('names the missing file, and a directory given as the file', () => {
    expect(() => parseS3Object(`raw/dt=1/x.csv=${join(dir, 'gone.csv')}`)).toThrow(
      `--s3-object: local file '${join(dir, 'gone.csv')}' not found`,
    );
    expect(() => parseS3Object(`raw/x.csv=${join(dir, 'folder')}`)).toThrow(
      `--s3-object: '${join(dir, 'folder')}' is a directory; name the local file to upload`,
    );
  });

  it('refuses a value with no key or no file, showing the form', () => {
    for (const value of ['raw=x.csv', 'raw/', 'raw/x.csv', '=raw/x.csv', 'raw/x.csv=']) {
      expect(() => parseS3Object(value)).toThrow(/^--s3-object takes BUCKET\/KEY=LOCALFILE/);
    }
  });
});
