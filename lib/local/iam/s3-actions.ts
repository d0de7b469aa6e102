/** One permission a request needs: an IAM action on a resource ARN. */
export interface RequiredPermission {
  readonly action: string;
  readonly resource: string;
  /**
   * Condition keys the request sets, such as `iam:PassedToService` for a role passed to a service.
   * @default - none besides those every request sets
   */
  readonly context?: Readonly<Record<string, string>>;
}

/** A request the local engine cannot map to IAM actions: it is refused, naming it, never let through. */
export class UnmappedRequestError extends Error {
  override readonly name = 'UnmappedRequestError';
}

export interface S3Request {
  readonly method: string;
  /** The bucket, from the path (path-style addressing: the SDK clients here use `forcePathStyle`). */
  readonly bucket: string | undefined;
  /** The object key, decoded. */
  readonly key: string | undefined;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request body, for the one request whose permissions depend on it: DeleteObjects. */
  readonly body: string;
}

/** Splits a path-style S3 URL path into bucket and key, decoded as S3 decodes them. */
export function s3Target(path: string): { bucket: string | undefined; key: string | undefined } {
  const [bucket, ...rest] = path.replace(/^\//, '').split('/');
  const key = rest.length > 0 ? rest.join('/') : undefined;
  return {
    bucket: bucket ? decodeURIComponent(bucket) : undefined,
    key: key === undefined || key === '' ? undefined : decodeURIComponent(key),
  };
}

/**
 * `x-amz-copy-source` as S3 reads it: `bucket/key`, URL-encoded, with an optional leading slash and
 * `?versionId=`. S3 decodes every escape (`%2B` is `+`, `%26` is `&`), where s3rver's decodeURI keeps
 * the reserved ones encoded; the S3 proxy rewrites the header from this.
 */
export function parseCopySource(header: string): { bucket: string; key: string; versionId?: string } {
  const [path = '', query] = header.replace(/^\//, '').split('?', 2);
  const [bucket = '', ...rest] = path.split('/');
  const versionId = query ? (new URLSearchParams(query).get('versionId') ?? undefined) : undefined;
  return {
    bucket: decodeURIComponent(bucket),
    key: decodeURIComponent(rest.join('/')),
    ...(versionId ? { versionId } : {}),
  };
}

const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;

/** Bucket subresources, by query parameter: the action for GET, PUT and DELETE. */
const BUCKET_SUBRESOURCES: Record<string, { GET?: string; PUT?: string; DELETE?: string }> = {
  acl: { GET: 's3:GetBucketAcl', PUT: 's3:PutBucketAcl' },
  cors: { GET: 's3:GetBucketCORS', PUT: 's3:PutBucketCORS', DELETE: 's3:PutBucketCORS' },
  encryption: {
    GET: 's3:GetEncryptionConfiguration',
    PUT: 's3:PutEncryptionConfiguration',
    DELETE: 's3:PutEncryptionConfiguration',
  },
  lifecycle: {
    GET: 's3:GetLifecycleConfiguration',
    PUT: 's3:PutLifecycleConfiguration',
    DELETE: 's3:PutLifecycleConfiguration',
  },
  location: { GET: 's3:GetBucketLocation' },
  logging: { GET: 's3:GetBucketLogging', PUT: 's3:PutBucketLogging' },
  notification: { GET: 's3:GetBucketNotification', PUT: 's3:PutBucketNotification' },
  policy: { GET: 's3:GetBucketPolicy', PUT: 's3:PutBucketPolicy', DELETE: 's3:DeleteBucketPolicy' },
  tagging: { GET: 's3:GetBucketTagging', PUT: 's3:PutBucketTagging', DELETE: 's3:PutBucketTagging' },
  uploads: { GET: 's3:ListBucketMultipartUploads' },
  versioning: { GET: 's3:GetBucketVersioning', PUT: 's3:PutBucketVersioning' },
  versions: { GET: 's3:ListBucketVersions' },
  website: { GET: 's3:GetBucketWebsite', PUT: 's3:PutBucketWebsite', DELETE: 's3:DeleteBucketWebsite' },
};

/** Subresources no mapping here covers: a request naming one is refused rather than guessed at. */
const UNMAPPED_SUBRESOURCES = [
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'object-lock',
  'ownershipControls',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'intelligent-tiering',
  'legal-hold',
  'retention',
  'restore',
  'select',
  'torrent',
  'attributes',
];

/**
 * The permissions an S3 REST request needs, as S3 documents them per operation. CopyObject and
 * UploadPartCopy also need read access to the source; DeleteObjects needs DeleteObject on each key.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 */
export function s3Permissions(request: S3Request): RequiredPermission[] {
  const { method, bucket, key, query, headers } = request;
  const has = (name: string) => query.has(name);
  const unmapped = UNMAPPED_SUBRESOURCES.find(has);
  if (unmapped)
    throw new UnmappedRequestError(
      `the local S3 stand-in does not authorize ${method} ?${unmapped} requests, so it refuses them rather than let them through unchecked`,
    );
  if (bucket === undefined) {
    if (method === 'GET') return [{ action: 's3:ListAllMyBuckets', resource: '*' }];
    throw new UnmappedRequestError(`the local S3 stand-in does not serve ${method} /`);
  }
  if (key === undefined) return bucketPermissions(request, bucket);

  const object = objectArn(bucket, key);
  const versionId = query.get('versionId');
  const copySource = headers['x-amz-copy-source'];
  const sourcePermission = (): RequiredPermission[] => {
    if (typeof copySource !== 'string') return [];
    const source = parseCopySource(copySource);
    return [
      {
        action: source.versionId ? 's3:GetObjectVersion' : 's3:GetObject',
        resource: objectArn(source.bucket, source.key),
      },
    ];
  };
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (has('uploadId')) return [{ action: 's3:ListMultipartUploadParts', resource: object }];
      if (has('tagging'))
        return [
          { action: versionId ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', resource: object },
        ];
      if (has('acl'))
        return [{ action: versionId ? 's3:GetObjectVersionAcl' : 's3:GetObjectAcl', resource: object }];
      return [{ action: versionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: object }];
    case 'PUT': {
      if (has('tagging'))
        return [
          { action: versionId ? 's3:PutObjectVersionTagging' : 's3:PutObjectTagging', resource: object },
        ];
      if (has('acl'))
        return [{ action: versionId ? 's3:PutObjectVersionAcl' : 's3:PutObjectAcl', resource: object }];
      // PutObject, UploadPart, CopyObject and UploadPartCopy all write under s3:PutObject.
      const extra: RequiredPermission[] = [];
      if (headers['x-amz-tagging'] !== undefined)
        extra.push({ action: 's3:PutObjectTagging', resource: object });
      if (headers['x-amz-acl'] !== undefined) extra.push({ action: 's3:PutObjectAcl', resource: object });
      return [{ action: 's3:PutObject', resource: object }, ...sourcePermission(), ...extra];
    }
    case 'POST':
      // CreateMultipartUpload (?uploads) and CompleteMultipartUpload (?uploadId).
      if (has('uploads') || has('uploadId')) return [{ action: 's3:PutObject', resource: object }];
      throw new UnmappedRequestError(
        `the local S3 stand-in does not serve POST on an object without ?uploads`,
      );
    case 'DELETE':
      if (has('uploadId')) return [{ action: 's3:AbortMultipartUpload', resource: object }];
      if (has('tagging'))
        return [
          {
            action: versionId ? 's3:DeleteObjectVersionTagging' : 's3:DeleteObjectTagging',
            resource: object,
          },
        ];
      return [{ action: versionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: object }];
    default:
      throw new UnmappedRequestError(`the local S3 stand-in does not serve ${method} on an object`);
  }
}

/**
 * What a bucket's default SSE-KMS encryption adds: S3 uses the bucket's KMS key on the caller's
 * behalf, so the caller needs it. Reading an object's content (GET, or the source of a copy) needs
 * kms:Decrypt; writing one (PUT, a copy's target, creating a multipart upload or uploading a part)
 * needs kms:GenerateDataKey; completing a multipart upload needs kms:Decrypt, as S3 reads the
 * encrypted parts. HEAD, listings, tags and ACLs touch no content and need neither.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
 */
export function sseKmsPermissions(
  request: S3Request,
  keyOf: (bucket: string) => string | undefined,
): RequiredPermission[] {
  const { method, bucket, key, query, headers } = request;
  if (bucket === undefined || key === undefined) return [];
  if (['tagging', 'acl', 'retention', 'legal-hold'].some((name) => query.has(name))) return [];
  const use = (action: string, inBucket: string): RequiredPermission[] => {
    const keyArn = keyOf(inBucket);
    return keyArn === undefined ? [] : [{ action, resource: keyArn }];
  };
  switch (method) {
    case 'GET':
      return query.has('uploadId') ? [] : use('kms:Decrypt', bucket);
    case 'PUT': {
      const copySource = headers['x-amz-copy-source'];
      const source =
        typeof copySource === 'string' ? use('kms:Decrypt', parseCopySource(copySource).bucket) : [];
      return [...use('kms:GenerateDataKey', bucket), ...source];
    }
    case 'POST':
      if (query.has('uploads')) return use('kms:GenerateDataKey', bucket);
      if (query.has('uploadId')) return use('kms:Decrypt', bucket);
      return [];
    default:
      return [];
  }
}

function bucketPermissions(request: S3Request, bucket: string): RequiredPermission[] {
  const { method, query, body } = request;
  const arn = bucketArn(bucket);
  for (const [name, actions] of Object.entries(BUCKET_SUBRESOURCES)) {
    if (!query.has(name)) continue;
    const action =
      actions[method as 'GET' | 'PUT' | 'DELETE'] ?? (method === 'HEAD' ? actions.GET : undefined);
    if (!action)
      throw new UnmappedRequestError(`the local S3 stand-in does not serve ${method} ?${name} on a bucket`);
    return [{ action, resource: arn }];
  }
  switch (method) {
    case 'GET':
    case 'HEAD':
      return [{ action: 's3:ListBucket', resource: arn }];
    case 'PUT':
      return [{ action: 's3:CreateBucket', resource: arn }];
    case 'DELETE':
      return [{ action: 's3:DeleteBucket', resource: arn }];
    case 'POST':
      if (query.has('delete')) {
        // DeleteObjects: S3 checks s3:DeleteObject (or DeleteObjectVersion) on each key it names.
        const permissions: RequiredPermission[] = [];
        for (const match of body.matchAll(/<Object>([\s\S]*?)<\/Object>/g)) {
          const inner = match[1] ?? '';
          const key = xmlText(/<Key>([\s\S]*?)<\/Key>/.exec(inner)?.[1] ?? '');
          const version = /<VersionId>/.test(inner);
          permissions.push({
            action: version ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
            resource: objectArn(bucket, key),
          });
        }
        return permissions;
      }
      throw new UnmappedRequestError(`the local S3 stand-in does not serve POST on a bucket without ?delete`);
    default:
      throw new UnmappedRequestError(`the local S3 stand-in does not serve ${method} on a bucket`);
  }
}

function xmlText(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');
}
