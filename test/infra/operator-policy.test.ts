/**
 * infra/operator-policy.json: the permissions of the person running up/run/down/attach/envs.
 * Every AWS SDK command the CLI sends (`new XxxCommand(` and `paginateXxx(` in cli/**, and the
 * S3 store the CLI writes and reads through, worker/store/*) must be allowed by it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers';

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}
const policy = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'operator-policy.json'), 'utf8')) as {
  Version: string;
  Statement: Statement[];
};
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** IAM service prefix of each SDK client package. A package not listed fails the test: add it here and to the policy. */
const PREFIX: Record<string, string> = {
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-cloudformation': 'cloudformation',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-resource-groups-tagging-api': 'tag',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-sts': 'sts',
};

/** Operations whose IAM action has another name (or none: GetCallerIdentity needs no permission). */
const ACTION_OF: Record<string, string[]> = {
  's3:ListObjectsV2': ['s3:ListBucket'],
  's3:ListObjects': ['s3:ListBucket'],
  's3:HeadBucket': ['s3:ListBucket'],
  's3:HeadObject': ['s3:GetObject'],
  's3:CreateMultipartUpload': ['s3:PutObject'],
  's3:UploadPart': ['s3:PutObject'],
  's3:CompleteMultipartUpload': ['s3:PutObject'],
  's3:DeleteObjects': ['s3:DeleteObject'],
  'sts:GetCallerIdentity': [],
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** `file: operation` for every SDK command sent, with the IAM actions it needs. */
function commandsSent(): Array<{ where: string; actions: string[] }> {
  const found: Array<{ where: string; actions: string[] }> = [];
  for (const file of [...sourceFiles('cli'), ...sourceFiles('worker/store')]) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const imports = new Map<string, string>();
    for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'(@aws-sdk\/[^']+)'/g)) {
      for (const name of m[1].split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0])) {
        if (name) imports.set(name, m[2]);
      }
    }
    const uses = [
      ...[...text.matchAll(/new\s+([A-Z][A-Za-z0-9]*)Command\s*\(/g)].map((m) => ({ ident: `${m[1]}Command`, op: m[1] })),
      ...[...text.matchAll(/\bpaginate([A-Z][A-Za-z0-9]*)\s*\(/g)].map((m) => ({ ident: `paginate${m[1]}`, op: m[1] })),
    ];
    for (const { ident, op } of uses) {
      const pkg = imports.get(ident);
      if (!pkg) continue; // not an AWS SDK command (a local class named …Command)
      const prefix = PREFIX[pkg];
      if (!prefix) throw new Error(`${file}: ${ident} comes from ${pkg}, which has no IAM prefix in this test: add it`);
      const action = `${prefix}:${op}`;
      found.push({ where: `${file}: ${ident}`, actions: ACTION_OF[action] ?? [action] });
    }
    if (/\bnew\s+Upload\s*\(/.test(text) && imports.get('Upload') === '@aws-sdk/lib-storage') {
      found.push({ where: `${file}: Upload`, actions: ['s3:PutObject', 's3:AbortMultipartUpload'] });
    }
  }
  return found;
}

/** IAM's wildcard match of an action pattern (case-insensitive, `*` and `?`). */
function matches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 'i');
  return re.test(action);
}
const allowed = (action: string) => policy.Statement.some((st) => st.Effect === 'Allow' && list(st.Action).some((p) => matches(p, action)));

test('the scan finds the commands the CLI is known to send', () => {
  const actions = new Set(commandsSent().flatMap((c) => c.actions));
  for (const a of ['ssm:SendCommand', 'cloudformation:DeleteStack', 'tag:GetResources', 's3:PutObject', 's3:ListBucket', 'ssm:GetParametersByPath']) {
    expect(actions).toContain(a);
  }
});

test('every AWS action the CLI calls is allowed by infra/operator-policy.json', () => {
  const missing = commandsSent().flatMap((c) => c.actions.filter((a) => !allowed(a)).map((a) => `${a} (${c.where})`));
  expect(missing).toEqual([]);
});

test('the policy is least privilege: no wildcard actions, no Deny, "*" resources only for actions without resource types', () => {
  expect(policy.Version).toBe('2012-10-17');
  // Actions AWS authorizes only on "*" (no resource-level permissions), or list calls without a resource.
  const starOnly = new Set([
    'cloudformation:DescribeStacks', 'autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances',
    'ssm:DescribeInstanceInformation', 'tag:GetResources', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations',
    'ssm:CancelCommand',
  ]);
  for (const st of policy.Statement) {
    expect(st.Effect).toBe('Allow');
    for (const action of list(st.Action)) {
      expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
      if (list(st.Resource).includes('*')) expect({ action, resource: '*', allowedOnStar: starOnly.has(action) }).toEqual({ action, resource: '*', allowedOnStar: true });
    }
  }
  const mutating = policy.Statement.filter((st) => list(st.Action).some((a) => /:(Delete|Put|Send|Cancel)/.test(a) && a !== 'ssm:CancelCommand'));
  for (const st of mutating) for (const r of list(st.Resource)) expect(r).toMatch(/loadfarm|AWS-RunShellScript|instance\/\*/);
  const send = policy.Statement.find((st) => list(st.Resource).some((r) => r.includes(':instance/')));
  expect(send?.Condition).toEqual({ StringLike: { 'ssm:resourceTag/loadfarm:env': '?*' } });
});
