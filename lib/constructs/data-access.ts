import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { type BucketUse, bucketUses, quarantineKeysMatch } from '../spec/bucket-uses.ts';
import type { PipelineDefinition, S3ObjectCreatedTrigger } from '../spec/types.ts';

/**
 * Reads: GetObject (HeadObject is authorized as GetObject), GetObjectVersion (a GET or HEAD that names
 * a version, as a run started by a versioned object does), ListBucket (ListObjectsV2, and a 404 rather
 * than a 403 for a missing key). Not aws-cdk-lib's `grantRead`: its `s3:GetObject*`, `s3:GetBucket*`
 * and `s3:List*` also allow reading ACLs, tags, retention, the bucket policy and every bucket setting.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
export const READ_OBJECT_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'] as const;
export const READ_BUCKET_ACTIONS = ['s3:ListBucket'] as const;

/**
 * Writes: PutObject, which also authorizes CreateMultipartUpload, UploadPart and
 * CompleteMultipartUpload; AbortMultipartUpload and ListParts (s3:ListMultipartUploadParts), which an
 * SDK's managed upload calls to clean up and resume. Not `grantPut`/`grantWrite`: those add object
 * tagging, legal hold, retention and deletes.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
 */
export const WRITE_OBJECT_ACTIONS = [
  's3:PutObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
] as const;

/**
 * A data bucket for `buckets`: any `s3.IBucket`. Only the members stepwise uses, so aws-cdk-lib's own
 * `s3.Bucket` fits too under `exactOptionalPropertyTypes`, where it does not match `s3.IBucket`.
 */
export type DataBucketRef = IConstruct &
  Pick<s3.IBucket, 'bucketName' | 'bucketArn' | 'arnForObjects' | 'encryptionKey'>;

/** What a function may do in one bucket: the union of what its tasks declared. */
export interface BucketAccess {
  /**
   * Whether a task reads the bucket (`reads` in the spec): {@link READ_OBJECT_ACTIONS} on its objects
   * and {@link READ_BUCKET_ACTIONS} on the bucket.
   * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
   */
  readonly read: boolean;
  /**
   * Whether a task writes the bucket (`writes` in the spec): {@link WRITE_OBJECT_ACTIONS} on its objects.
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
   */
  readonly write: boolean;
}

/**
 * Grants exactly the declared access, on this bucket only, and on its KMS key when it has one (a read
 * decrypts; a write generates data keys, and a multipart upload decrypts them again).
 */
export function grantBucketAccess(
  grantee: iam.IGrantable,
  bucket: DataBucketRef,
  access: BucketAccess,
): void {
  const objects = bucket.arnForObjects('*');
  if (access.read) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...READ_OBJECT_ACTIONS], resources: [objects] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...READ_BUCKET_ACTIONS], resources: [bucket.bucketArn] }),
    );
  }
  if (access.write) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...WRITE_OBJECT_ACTIONS], resources: [objects] }),
    );
  }
  const key = bucket.encryptionKey;
  if (key) {
    const actions = access.write ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
    key.grant(grantee, ...actions);
  }
}

/** The spec names a bucket that `buckets` does not map to a real one. */
export class UnmappedBucketError extends Error {
  override readonly name = 'UnmappedBucketError';
}

/**
 * The real bucket behind every name the spec uses.
 *
 * @throws UnmappedBucketError listing every unmapped name with the places it is used.
 */
export function resolveBuckets(
  spec: PipelineDefinition,
  buckets: Readonly<Record<string, DataBucketRef>>,
): ReadonlyMap<string, DataBucketRef> {
  const resolved = new Map<string, DataBucketRef>();
  const missing = new Map<string, BucketUse[]>();
  for (const use of bucketUses(spec)) {
    const bucket = Object.hasOwn(buckets, use.name) ? buckets[use.name] : undefined;
    if (bucket) resolved.set(use.name, bucket);
    else missing.set(use.name, [...(missing.get(use.name) ?? []), use]);
  }
  if (missing.size === 0) return resolved;
  const lines = [...missing].map(
    ([name, uses]) => `  '${name}', used at ${uses.map((use) => use.path).join(', ')}`,
  );
  const example = [...missing.keys()].map((name) => `'${name}': ${camelCase(name)}Bucket`).join(', ');
  const mapped = Object.keys(buckets);
  throw new UnmappedBucketError(
    [
      `pipeline '${spec.name}' uses ${missing.size === 1 ? 'a bucket name' : 'bucket names'} that \`buckets\` does not map to a real bucket:`,
      ...lines,
      `Map each one to a bucket (any s3.IBucket): new Pipeline(scope, id, { spec, buckets: { ${example} } })` +
        (mapped.length > 0 ? `; mapped now: ${mapped.map((name) => `'${name}'`).join(', ')}` : '') +
        '. A spec name is never used as a real bucket name.',
    ].join('\n'),
  );
}

/** The union of the buckets a handler's tasks declare, with what each may do there. */
export function declaredAccess(
  spec: PipelineDefinition,
  tasks: readonly string[],
): ReadonlyMap<string, BucketAccess> {
  const access = new Map<string, BucketAccess>();
  for (const task of spec.tasks) {
    if (!tasks.includes(task.id) || task.run.kind !== 'lambda') continue;
    for (const name of task.run.reads ?? []) {
      access.set(name, { read: true, write: access.get(name)?.write ?? false });
    }
    for (const name of task.run.writes ?? []) {
      access.set(name, { read: access.get(name)?.read ?? false, write: true });
    }
  }
  return access;
}

/** An S3 trigger of some pipeline, with its real bucket. */
export interface WatchedLocation {
  readonly pipeline: string;
  /** Where the spec declares the trigger, such as `triggers[0]`. */
  readonly path: string;
  readonly trigger: S3ObjectCreatedTrigger;
  readonly bucket: DataBucketRef;
}

/** Where a pipeline moves bad objects: one location per S3 trigger it quarantines from. */
export interface QuarantineLocation {
  readonly pipeline: string;
  readonly prefix: string;
  /** The trigger whose objects are moved, so the key moved is `prefix` + a key that trigger matched. */
  readonly source: S3ObjectCreatedTrigger;
  readonly bucket: DataBucketRef;
}

/**
 * Whether an object the quarantine writes could match the watching trigger: the same bucket, and some
 * key `quarantine.prefix + source.prefix + x + source.suffix` that is also `watch.prefix + y +
 * watch.suffix`. S3 sends "Object Created" for the quarantine's CopyObject too, so such a trigger
 * starts a run on the quarantined object, which a pipeline watching its own quarantine moves again,
 * without end.
 */
export function quarantineIsWatched(quarantine: QuarantineLocation, watch: WatchedLocation): boolean {
  if (bucketKey(quarantine.bucket) !== bucketKey(watch.bucket)) return false;
  return quarantineKeysMatch(quarantine.prefix, quarantine.source, watch.trigger);
}

/** The problem with a watched quarantine, in the user's terms, with the two fixes. */
export function watchedQuarantineProblem(quarantine: QuarantineLocation, watch: WatchedLocation): string {
  const where = `${quarantine.prefix}${quarantine.source.prefix ?? ''}*${quarantine.source.suffix ?? ''}`;
  const watched = `${watch.trigger.prefix ?? ''}*${watch.trigger.suffix ?? ''}`;
  const own = watch.pipeline === quarantine.pipeline;
  return (
    `pipeline '${quarantine.pipeline}': quarantine (prefix '${quarantine.prefix}') moves bad objects to ` +
    `'${where}' in bucket '${watch.trigger.bucket}', which ${own ? 'its own' : `pipeline '${watch.pipeline}'`} ` +
    `trigger ${watch.path} (s3ObjectCreated '${watched}') watches: S3 sends "Object Created" for the ` +
    `quarantine's copy, so each quarantined object would start ${own ? 'a run that is quarantined again, without end' : 'a run of its own'}. ` +
    `Give the trigger a prefix the quarantine's keys do not start with (such as prefix: 'incoming/'), ` +
    `or set quarantine.bucket to a bucket no trigger watches.`
  );
}

/** The same bucket gives the same key, whether it came by one IBucket or another. */
function bucketKey(bucket: DataBucketRef): string {
  if (!Token.isUnresolved(bucket.bucketName)) return bucket.bucketName;
  const stack = Stack.of(bucket);
  return `${stack.node.path}:${JSON.stringify(stack.resolve(bucket.bucketName))}`;
}

function camelCase(name: string): string {
  return name.replace(/[.-]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
