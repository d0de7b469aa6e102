// EventBridge event-pattern semantics, as documented for event buses and implemented by aws/event-ruler:
// every operator, arrays on both sides, exists on leaves only, $or, and refusals that name the rule.
import { describe, expect, it } from 'vitest';
import { compilePattern, EventPatternError, matchesPattern } from '../../lib/spec/event-pattern-match.ts';

/** An S3 "Object Created" event as EventBridge delivers it. */
function s3Event(key: string, bucket = 'raw') {
  return {
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: '2026-11-01T02:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key, size: 5, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '617f08299329d189' },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '000000000000',
      'source-ip-address': '10.0.12.7',
      reason: 'PutObject',
    },
  };
}

function refusal(pattern: unknown, rule?: string): string {
  try {
    compilePattern(pattern, rule === undefined ? {} : { rule });
  } catch (error) {
    expect(error).toBeInstanceOf(EventPatternError);
    return (error as Error).message;
  }
  throw new Error('expected the pattern to be refused');
}

describe('the pattern CDK synthesizes for an s3ObjectCreated trigger', () => {
  // Exactly what `events.Rule` renders for
  // `{ source: ['aws.s3'], detailType: ['Object Created'], detail: { bucket: { name: ['raw'] },
  //    object: { key: [{ wildcard: 'orders/*.csv' }] } } }` (test/local/event-rules.test.ts checks the template).
  const pattern = {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: { bucket: { name: ['raw'] }, object: { key: [{ wildcard: 'orders/*.csv' }] } },
  };
  const matches = compilePattern(pattern, { rule: 'OrdersS3Trigger' });

  it('matches keys under the prefix with the suffix, at any depth, and an empty middle', () => {
    expect(matches(s3Event('orders/2026-11-01.csv'))).toBe(true);
    expect(matches(s3Event('orders/2026/11/01/part-0.csv'))).toBe(true);
    expect(matches(s3Event('orders/.csv'))).toBe(true);
  });

  it('does not match another suffix, another prefix, another bucket, or another kind of event', () => {
    expect(matches(s3Event('orders/2026-11-01.csv.gz'))).toBe(false);
    expect(matches(s3Event('orders/2026-11-01.CSV'))).toBe(false);
    expect(matches(s3Event('archive/orders/2026-11-01.csv'))).toBe(false);
    expect(matches(s3Event('orders/2026-11-01.csv', 'curated'))).toBe(false);
    expect(matches({ ...s3Event('orders/a.csv'), 'detail-type': 'Object Deleted' })).toBe(false);
    expect(matches({ ...s3Event('orders/a.csv'), source: 'stepwise' })).toBe(false);
  });

  it('does not match an event missing a field the pattern names', () => {
    const { detail: _, ...noDetail } = s3Event('orders/a.csv');
    expect(matches(noDetail)).toBe(false);
    expect(matches('orders/a.csv')).toBe(false);
  });
});

describe('exact values', () => {
  it('match strings case-sensitively, numbers by value, booleans and null by kind', () => {
    expect(matchesPattern({ a: ['x', 'y'] }, { a: 'y' })).toBe(true);
    expect(matchesPattern({ a: ['x'] }, { a: 'X' })).toBe(false);
    expect(matchesPattern({ a: [300] }, { a: 300.0 })).toBe(true);
    expect(matchesPattern({ a: [300] }, { a: '300' })).toBe(false);
    expect(matchesPattern({ a: [true] }, { a: true })).toBe(true);
    expect(matchesPattern({ a: ['true'] }, { a: true })).toBe(false);
  });

  it('keep null and the empty string apart', () => {
    expect(matchesPattern({ a: [null] }, { a: null })).toBe(true);
    expect(matchesPattern({ a: [null] }, { a: '' })).toBe(false);
    expect(matchesPattern({ a: [''] }, { a: '' })).toBe(true);
    expect(matchesPattern({ a: [''] }, { a: null })).toBe(false);
    expect(matchesPattern({ a: [null] }, {})).toBe(false);
  });

  it('require every named field (AND) and any listed value (OR)', () => {
    const pattern = { source: ['a', 'b'], detail: { state: ['on'] } };
    expect(matchesPattern(pattern, { source: 'b', detail: { state: 'on' } })).toBe(true);
    expect(matchesPattern(pattern, { source: 'b', detail: { state: 'off' } })).toBe(false);
    expect(matchesPattern(pattern, { source: 'c', detail: { state: 'on' } })).toBe(false);
  });

  it('do not match an object where the pattern expects a leaf value', () => {
    expect(matchesPattern({ detail: ['x'] }, { detail: { x: 1 } })).toBe(false);
  });
});

describe('arrays in the event', () => {
  it('match when any element matches', () => {
    const pattern = { resources: ['arn:aws:s3:::raw'] };
    expect(matchesPattern(pattern, { resources: ['arn:aws:s3:::other', 'arn:aws:s3:::raw'] })).toBe(true);
    expect(matchesPattern(pattern, { resources: ['arn:aws:s3:::other'] })).toBe(false);
    expect(matchesPattern(pattern, { resources: [] })).toBe(false);
    expect(matchesPattern({ a: [{ prefix: 'x' }] }, { a: [['y'], ['xz']] })).toBe(true);
  });

  it('match a nested pattern against each object, never across two elements', () => {
    const event = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
      ],
    };
    expect(matchesPattern({ employees: { firstName: ['Anna'] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['Anna'], lastName: ['Doe'] } }, event)).toBe(false);
  });
});

describe('prefix, suffix and equals-ignore-case', () => {
  it('match the start or end of a string', () => {
    expect(matchesPattern({ time: [{ prefix: '2026-11-01' }] }, { time: '2026-11-01T02:00:00Z' })).toBe(true);
    expect(matchesPattern({ time: [{ prefix: '2026-11-02' }] }, { time: '2026-11-01T02:00:00Z' })).toBe(
      false,
    );
    expect(matchesPattern({ file: [{ suffix: '.png' }] }, { file: 'a.png' })).toBe(true);
    expect(matchesPattern({ file: [{ suffix: '.png' }] }, { file: 'a.PNG' })).toBe(false);
  });

  it('ignore case when asked', () => {
    expect(
      matchesPattern({ s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, { s: 'eventbridge' }),
    ).toBe(true);
    expect(matchesPattern({ file: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { file: 'A.PNG' })).toBe(
      true,
    );
    expect(matchesPattern({ s: [{ 'equals-ignore-case': 'ec2' }] }, { s: 'EC2' })).toBe(true);
    expect(matchesPattern({ s: [{ 'equals-ignore-case': 'ec2' }] }, { s: 'EC22' })).toBe(false);
  });

  it('work only on strings', () => {
    expect(matchesPattern({ n: [{ prefix: '12' }] }, { n: 123 })).toBe(false);
    expect(matchesPattern({ n: [{ suffix: '3' }] }, { n: 123 })).toBe(false);
    expect(matchesPattern({ n: [{ 'equals-ignore-case': 'true' }] }, { n: true })).toBe(false);
  });
});

describe('wildcard', () => {
  it('matches any run of characters at each star, including none and newlines', () => {
    const pattern = { s: [{ wildcard: 'Simple*Service*' }] };
    expect(matchesPattern(pattern, { s: 'SimpleStorageService' })).toBe(true);
    expect(matchesPattern(pattern, { s: 'SimpleService' })).toBe(true);
    expect(matchesPattern(pattern, { s: 'Simple\nQueue Service v2' })).toBe(true);
    expect(matchesPattern(pattern, { s: 'NotSimpleService' })).toBe(false);
  });

  it('treats regular-expression characters literally', () => {
    expect(matchesPattern({ s: [{ wildcard: 'a.b(c)*' }] }, { s: 'a.b(c)d' })).toBe(true);
    expect(matchesPattern({ s: [{ wildcard: 'a.b(c)*' }] }, { s: 'axb(c)d' })).toBe(false);
  });

  it('matches a literal star or backslash when escaped', () => {
    expect(matchesPattern({ s: [{ wildcard: 'a\\*b' }] }, { s: 'a*b' })).toBe(true);
    expect(matchesPattern({ s: [{ wildcard: 'a\\*b' }] }, { s: 'axb' })).toBe(false);
    expect(matchesPattern({ s: [{ wildcard: 'a\\\\*' }] }, { s: 'a\\anything' })).toBe(true);
  });

  it('does not match numbers', () => {
    expect(matchesPattern({ n: [{ wildcard: '1*' }] }, { n: 12 })).toBe(false);
  });

  it('fails when stars are consecutive or a backslash escapes anything else', () => {
    expect(refusal({ s: [{ wildcard: 'a**b' }] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': s[0]: 'wildcard' does not allow consecutive '*'; got "a**b""`,
    );
    expect(refusal({ s: [{ wildcard: 'a\\b' }] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': s[0]: 'wildcard' allows a backslash only before '*' or '\\'; got "a\\b""`,
    );
  });
});

describe('anything-but', () => {
  it('excludes one value or a list of values', () => {
    expect(matchesPattern({ s: [{ 'anything-but': 'init' }] }, { s: 'running' })).toBe(true);
    expect(matchesPattern({ s: [{ 'anything-but': 'init' }] }, { s: 'init' })).toBe(false);
    expect(matchesPattern({ n: [{ 'anything-but': 123 }] }, { n: 124 })).toBe(true);
    expect(matchesPattern({ n: [{ 'anything-but': 123 }] }, { n: 123 })).toBe(false);
    const list = { s: [{ 'anything-but': ['stopped', 'overloaded'] }] };
    expect(matchesPattern(list, { s: 'running' })).toBe(true);
    expect(matchesPattern(list, { s: 'stopped' })).toBe(false);
    const numbers = { n: [{ 'anything-but': [100, 200] }] };
    expect(matchesPattern(numbers, { n: 150 })).toBe(true);
    expect(matchesPattern(numbers, { n: 200 })).toBe(false);
  });

  it('excludes a prefix, a suffix, values in any case, or a wildcard', () => {
    expect(matchesPattern({ r: [{ 'anything-but': { prefix: 'us-' } }] }, { r: 'eu-west-1' })).toBe(true);
    expect(matchesPattern({ r: [{ 'anything-but': { prefix: 'us-' } }] }, { r: 'us-east-1' })).toBe(false);
    expect(matchesPattern({ f: [{ 'anything-but': { suffix: '.png' } }] }, { f: 'a.jpg' })).toBe(true);
    expect(matchesPattern({ f: [{ 'anything-but': { suffix: '.png' } }] }, { f: 'a.png' })).toBe(false);
    const ignoringCase = { s: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'INIT'] } }] };
    expect(matchesPattern(ignoringCase, { s: 'running' })).toBe(true);
    expect(matchesPattern(ignoringCase, { s: 'init' })).toBe(false);
    const wildcard = { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] };
    expect(matchesPattern(wildcard, { p: '/usr/bin/node' })).toBe(true);
    expect(matchesPattern(wildcard, { p: '/usr/lib/node' })).toBe(false);
  });

  it('needs the field to be present', () => {
    expect(matchesPattern({ s: [{ 'anything-but': 'init' }] }, {})).toBe(false);
    expect(matchesPattern({ s: [{ 'anything-but': { prefix: 'x' } }] }, { t: 'y' })).toBe(false);
  });

  it('matches an event array holding any other value', () => {
    expect(matchesPattern({ s: [{ 'anything-but': 'a' }] }, { s: ['a', 'b'] })).toBe(true);
    expect(matchesPattern({ s: [{ 'anything-but': 'a' }] }, { s: ['a'] })).toBe(false);
  });

  it('fails when the list mixes strings and numbers or the inner operator is unknown', () => {
    expect(refusal({ s: [{ 'anything-but': ['a', 1] }] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': s[0]: 'anything-but' takes a list of only strings or only numbers; got ["a",1]"`,
    );
    expect(refusal({ s: [{ 'anything-but': { contains: 'a' } }] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': s[0]: unknown operator 'contains' inside 'anything-but'; it supports prefix, suffix, equals-ignore-case and wildcard"`,
    );
  });
});

describe('exists', () => {
  it('matches a present leaf, null included, or an absent field', () => {
    expect(matchesPattern({ d: { c: [{ exists: true }] } }, { d: { c: 5 } })).toBe(true);
    expect(matchesPattern({ d: { c: [{ exists: true }] } }, { d: { c: null } })).toBe(true);
    expect(matchesPattern({ d: { c: [{ exists: true }] } }, { d: {} })).toBe(false);
    expect(matchesPattern({ d: { c: [{ exists: false }] } }, { d: {} })).toBe(true);
    expect(matchesPattern({ d: { c: [{ exists: false }] } }, { d: { c: 5 } })).toBe(false);
  });

  it('sees only leaves: an object is not there, and neither is an empty array', () => {
    expect(matchesPattern({ d: { c: [{ exists: true }] } }, { d: { c: { c1: 100 } } })).toBe(false);
    expect(matchesPattern({ d: { c: [{ exists: false }] } }, { d: { c: { c1: 100 } } })).toBe(true);
    expect(matchesPattern({ d: { c: [{ exists: false }] } }, { d: { c: [] } })).toBe(true);
  });

  it('matches exists: false below a parent the event lacks', () => {
    expect(matchesPattern({ source: ['x'], detail: { c: [{ exists: false }] } }, { source: 'x' })).toBe(true);
  });
});

describe('numeric', () => {
  it('matches ranges, single bounds and equality on numbers', () => {
    const range = { c: [{ numeric: ['>', 0, '<=', 5] }] };
    expect(matchesPattern(range, { c: 5 })).toBe(true);
    expect(matchesPattern(range, { c: 0.5 })).toBe(true);
    expect(matchesPattern(range, { c: 0 })).toBe(false);
    expect(matchesPattern(range, { c: 5.01 })).toBe(false);
    expect(matchesPattern({ c: [{ numeric: ['<', 10] }] }, { c: -3 })).toBe(true);
    expect(matchesPattern({ c: [{ numeric: ['>=', 10] }] }, { c: 10 })).toBe(true);
    expect(matchesPattern({ x: [{ numeric: ['=', 3.018e2] }] }, { x: 301.8 })).toBe(true);
  });

  it('does not match strings that look like numbers', () => {
    expect(matchesPattern({ c: [{ numeric: ['>', 0] }] }, { c: '5' })).toBe(false);
  });

  it('fails when the bounds are out of order or not numbers', () => {
    expect(refusal({ c: [{ numeric: ['<', 5, '>', 0] }] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': c[0]: 'numeric' takes ["<op>", number] or [">"|">=", number, "<"|"<=", number]; got ["<",5,">",0]"`,
    );
    expect(refusal({ c: [{ numeric: ['>', '0'] }] })).toMatchInlineSnapshot(
      `"event pattern: c[0]: 'numeric' takes ["<op>", number] or [">"|">=", number, "<"|"<=", number]; got [">","0"]"`,
    );
  });
});

describe('cidr', () => {
  it('matches IPv4 and IPv6 addresses inside the block', () => {
    expect(matchesPattern({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.12.7' })).toBe(true);
    expect(matchesPattern({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.1.7' })).toBe(false);
    expect(matchesPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8:0:0:1::5' })).toBe(true);
    expect(matchesPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db9::5' })).toBe(false);
    expect(matchesPattern({ ip: [{ cidr: '::ffff:10.0.0.0/120' }] }, { ip: '::ffff:10.0.0.9' })).toBe(true);
  });

  it('does not match what is not an address of the same family', () => {
    expect(matchesPattern({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 'localhost' })).toBe(false);
    expect(matchesPattern({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '::1' })).toBe(false);
    expect(matchesPattern({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 10 })).toBe(false);
  });

  it('fails when the block is malformed', () => {
    expect(refusal({ ip: [{ cidr: '10.0.0.0/33' }] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': ip[0]: 'cidr' takes a block such as "10.0.0.0/24" or "2001:db8::/32"; got "10.0.0.0/33""`,
    );
  });
});

describe('$or', () => {
  it('matches when any alternative matches, alongside the other fields', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
    };
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/EC2' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', metricName: 'CPUUtilization' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', metricName: 'Other' })).toBe(false);
    expect(matchesPattern(pattern, { source: 'aws.ec2', namespace: 'AWS/EC2' })).toBe(false);
  });

  it('nests inside objects and inside other alternatives', () => {
    const pattern = {
      detail: {
        $or: [
          { state: ['FAILED'] },
          {
            state: ['SUCCEEDED'],
            $or: [{ warnings: [{ exists: true }] }, { retries: [{ numeric: ['>', 0] }] }],
          },
        ],
      },
    };
    expect(matchesPattern(pattern, { detail: { state: 'FAILED' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { state: 'SUCCEEDED', retries: 2 } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { state: 'SUCCEEDED', retries: 0 } })).toBe(false);
  });

  it('fails with fewer than two alternatives', () => {
    expect(refusal({ $or: [{ a: ['x'] }] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': $or: '$or' needs at least two alternative patterns; got 1"`,
    );
  });
});

describe('refusals', () => {
  it('fails when an operator is unknown, naming the operator and the rule', () => {
    expect(
      refusal({ detail: { object: { key: [{ contains: 'orders' }] } } }, 'OrdersTrigger'),
    ).toMatchInlineSnapshot(
      `"rule 'OrdersTrigger': detail.object.key[0]: unknown operator 'contains'; EventBridge event patterns support prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr and $or"`,
    );
  });

  it('fails at compile time, even where the event would not reach the bad operator', () => {
    const pattern = { source: ['nothing'], detail: { k: [{ 'starts-with': 'x' }] } };
    expect(() => compilePattern(pattern)).toThrow(/unknown operator 'starts-with'/);
    expect(() => matchesPattern(pattern, { source: 'other' })).toThrow(EventPatternError);
  });

  it('fails when a field holds a bare value, an empty array, or an operator object with two operators', () => {
    expect(refusal({ source: 'aws.s3' }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': source: a field's value must be an array of values to match or an object of nested fields; got "aws.s3" (write ["aws.s3"] to match it exactly)"`,
    );
    expect(refusal({ source: [] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': source: an empty array matches nothing; list at least one value"`,
    );
    expect(refusal({ k: [{ prefix: 'a', suffix: 'b' }] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': k[0]: an operator object holds exactly one operator; got {"prefix":"a","suffix":"b"}"`,
    );
    expect(refusal({ k: [['a']] }, 'R')).toMatchInlineSnapshot(
      `"rule 'R': k[0]: a value to match must be a string, number, boolean, null or an operator object; got ["a"]"`,
    );
  });

  it('fails when the pattern is not an object or is empty', () => {
    expect(refusal([], 'R')).toMatchInlineSnapshot(
      `"rule 'R': a pattern must be a JSON object of fields; got []"`,
    );
    expect(refusal({}, 'R')).toMatchInlineSnapshot(
      `"rule 'R': a pattern must name at least one field; got {}"`,
    );
  });
});
