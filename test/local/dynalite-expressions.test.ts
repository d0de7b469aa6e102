// dynalite's expression parsers, memoized by lib/local/dynalite-expressions.ts: each parse of the
// expressions the platform sends gives the tree dynalite's own parser gives, and strikes the same names
// and values from the unused ones, the first time and every time after, alone or after another
// expression of the same request.
import './cli-env.ts';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import conditionParser from 'dynalite/db/conditionParser.js';
import updateParser from 'dynalite/db/updateParser.js';
import { describe, expect, it } from 'vitest';
import { memoizeExpressionParsers, UNMEMOIZED } from '../../lib/local/dynalite-expressions.ts';
import { ensureTables, startServices } from '../../lib/local/services.ts';
import { tempStateDir } from './stepwise-cli.ts';

memoizeExpressionParsers();

type Parser = typeof conditionParser & { [UNMEMOIZED]?: typeof conditionParser.parse };

/** Requests as the dispatcher and the recorder send them (from a backfill's log), values included. */
const REQUESTS: {
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}[] = [
  { ConditionExpression: 'attribute_not_exists(pk)' },
  {
    UpdateExpression: 'ADD active :run',
    ConditionExpression:
      'NOT contains(released, :runId) AND NOT contains(releasedBefore, :runId) AND (attribute_not_exists(active) OR size(active) < :max OR contains(active, :runId))',
    ExpressionAttributeValues: { ':run': { SS: ['run-1'] }, ':runId': { S: 'run-1' }, ':max': { N: '5' } },
  },
  {
    UpdateExpression: 'SET #state = :queued REMOVE #status',
    ConditionExpression: '#state = :claimed',
    ExpressionAttributeNames: { '#state': 'state', '#status': 'status' },
    ExpressionAttributeValues: { ':queued': { S: 'QUEUED' }, ':claimed': { S: 'CLAIMED' } },
  },
  {
    UpdateExpression:
      'SET #state = :started, runStartedAt = if_not_exists(runStartedAt, :now), executionArn = :arn REMOVE #status',
    ConditionExpression: 'attribute_exists(pk) AND #state <> :failed',
    ExpressionAttributeNames: { '#state': 'state', '#status': 'status' },
    ExpressionAttributeValues: {
      ':started': { S: 'STARTED' },
      ':failed': { S: 'FAILED' },
      ':now': { S: '2026-11-28T00:23:31.575Z' },
      ':arn': { S: 'arn:aws:states:us-east-1:000000000000:execution:Machine:run-1' },
    },
  },
  {
    UpdateExpression: 'SET tasks = :tasks, transitions = :transitions, #trigger = :trigger',
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: { '#trigger': 'trigger' },
    ExpressionAttributeValues: {
      ':tasks': { L: [{ S: 'extract' }, { S: 'load' }] },
      ':transitions': { N: '6' },
      ':trigger': { S: '{"type":"schedule"}' },
    },
  },
  {
    UpdateExpression:
      'DELETE active :run ADD released :run SET releasedSince = if_not_exists(releasedSince, :now)',
    ConditionExpression: 'attribute_not_exists(releasedSince) OR releasedSince > :expired',
    ExpressionAttributeValues: {
      ':run': { SS: ['run-1'] },
      ':now': { N: '1795825413' },
      ':expired': { N: '1795824513' },
    },
  },
  {
    ConditionExpression: '#a BETWEEN :low AND :high AND begins_with(#b, :prefix)',
    ExpressionAttributeNames: { '#a': 'a', '#b': 'b' },
    ExpressionAttributeValues: { ':low': { N: '1' }, ':high': { N: '2' }, ':prefix': { S: 'x' } },
  },
];

/** A context as dynalite's validations build one: every name and value unused until a parse uses it. */
function contextOf(request: (typeof REQUESTS)[number]) {
  const names = request.ExpressionAttributeNames;
  const values = request.ExpressionAttributeValues;
  return {
    attrNames: names,
    attrVals: values,
    unusedAttrNames: Object.fromEntries(Object.keys(names ?? {}).map((k) => [k, true])),
    unusedAttrVals: Object.fromEntries(Object.keys(values ?? {}).map((k) => [k, true])),
    isReserved: () => false,
    compare: (op: string, x: { N: string }, y: { N: string }) => op === 'GT' && Number(x.N) > Number(y.N),
  };
}

/** Parses a request's expressions as dynalite does (update, then condition), on one context. */
function parseRequest(request: (typeof REQUESTS)[number], parse: (parser: Parser) => Parser['parse']) {
  const context = contextOf(request);
  const trees: unknown[] = [];
  if (request.UpdateExpression) trees.push(parse(updateParser)(request.UpdateExpression, { context }));
  if (request.ConditionExpression)
    trees.push(parse(conditionParser)(request.ConditionExpression, { context }));
  return { trees, unusedNames: context.unusedAttrNames, unusedValues: context.unusedAttrVals };
}

/** The tree's shape with each object's prototype named: the parsers make some maps with none. */
function prototypes(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value;
  if (Array.isArray(value)) return value.map(prototypes);
  return {
    prototype: Object.getPrototypeOf(value) === null ? 'none' : 'Object',
    fields: Object.fromEntries(Object.entries(value).map(([key, item]) => [key, prototypes(item)])),
  };
}

const original = (parser: Parser) => {
  const parse = parser[UNMEMOIZED];
  if (!parse) throw new Error('the parser is not memoized');
  return parse;
};
const memoized = (parser: Parser) => parser.parse.bind(parser);

describe("dynalite's expression parsers, memoized", () => {
  it.each(REQUESTS.map((request) => [request.UpdateExpression ?? request.ConditionExpression, request]))(
    'parses %s as dynalite does, first and again',
    (_, request) => {
      const expected = parseRequest(request, original);
      for (let i = 0; i < 2; i++) {
        const got = parseRequest(request, memoized);
        expect(got).toEqual(expected);
        expect(prototypes(got.trees)).toEqual(prototypes(expected.trees));
      }
    },
  );

  it('strikes a name the condition shares with the update, when the condition comes alone', () => {
    const shared = REQUESTS[2] as (typeof REQUESTS)[number];
    parseRequest(shared, memoized); // the update strikes #state before the condition is parsed
    const { UpdateExpression: _, ...alone } = shared;
    expect(parseRequest(alone, memoized)).toEqual(parseRequest(alone, original));
    expect(parseRequest(alone, memoized).unusedNames).toEqual({ '#status': true });
  });

  it('gives each caller a tree of its own', () => {
    const request = REQUESTS[1] as (typeof REQUESTS)[number];
    const [first] = parseRequest(request, memoized).trees as { type: string }[];
    (first as { type: string }).type = 'changed by a caller';
    expect(parseRequest(request, memoized)).toEqual(parseRequest(request, original));
  });

  it('throws for a malformed expression every time, as dynalite does', () => {
    const context = () => contextOf({ ExpressionAttributeValues: { ':v': { S: 'x' } } });
    const error = (parse: Parser['parse']) => {
      try {
        parse('a = = :v', { context: context() });
      } catch (thrown) {
        return String(thrown);
      }
      return 'no error';
    };
    const expected = error(original(conditionParser));
    expect(expected).not.toBe('no error');
    expect(error(memoized(conditionParser))).toBe(expected);
    expect(error(memoized(conditionParser))).toBe(expected);
  });

  it('answers UpdateItem through dynalite the same on a repeat: unused values, failed conditions', async () => {
    const state = tempStateDir('dynalite-expressions');
    const services = await startServices(state.dir);
    try {
      await ensureTables(services.dynamodb, [
        {
          name: 'Slots',
          properties: {
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          },
        } as never,
      ]);
      await services.dynamodb.send(new PutItemCommand({ TableName: 'Slots', Item: { pk: { S: 'p' } } }));
      const claim = {
        TableName: 'Slots',
        Key: { pk: { S: 'p' } },
        UpdateExpression: 'ADD active :run',
        ConditionExpression: 'attribute_not_exists(active) OR size(active) < :max',
        ExpressionAttributeValues: { ':run': { SS: ['run-1'] }, ':max': { N: '1' } },
      };
      await services.dynamodb.send(new UpdateItemCommand(claim));
      for (let i = 0; i < 2; i++) {
        await expect(services.dynamodb.send(new UpdateItemCommand(claim))).rejects.toThrow(
          expect.objectContaining({ name: 'ConditionalCheckFailedException' }),
        );
        await expect(
          services.dynamodb.send(
            new UpdateItemCommand({
              ...claim,
              ExpressionAttributeValues: { ...claim.ExpressionAttributeValues, ':extra': { S: 'x' } },
            }),
          ),
        ).rejects.toThrow(
          'Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}',
        );
      }
    } finally {
      await services.close();
      state.remove();
    }
  });
});
