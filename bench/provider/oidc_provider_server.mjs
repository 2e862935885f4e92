// oidc-provider (npm) configured for the valetkey provider benchmark.
//
// Copied into bench/.peers/node/ by bench/provider/peers.py so that `import 'oidc-provider'`
// resolves there. Configuration comes from the environment (all required):
//   BENCH_PORT          port on 127.0.0.1
//   BENCH_JWKS          path of a JSON Web Key Set: an RS256 key (ID tokens, oidc-provider's and
//                       valetkey's default) and an ES256 (P-256) key (JWT access tokens)
//   BENCH_TOKEN_FORMAT  "opaque" (oidc-provider's default) or "jwt" (ES256, RFC 9068 style,
//                       through features.resourceIndicators)
//   BENCH_CC_SECRET     secret of client "bench-cc" (client_credentials, scope photos.read)
//   BENCH_CODE_SECRET   secret of client "photo-printer" (authorization_code + PKCE)
//   BENCH_REDIRECT_URI  redirect URI of "photo-printer"
//   BENCH_REMEMBER_CONSENT  "1": reuse an account's earlier grant for the same client, as
//                       valetkey remembers consent per user and client; "0": oidc-provider's
//                       default (consent once per browser session).
//   BENCH_LOGIN_ARGON2  optional, "m=<KiB>,t=<passes>,p=<lanes>": the argon2 variant. At
//                       start-up it hashes BENCH_LOGIN_PASSWORD for BENCH_LOGIN_USER with
//                       argon2id (@node-rs/argon2) at those costs, and the login form then
//                       verifies the submitted password against that hash: a wrong password or
//                       another login is answered 401 before devInteractions sees it.
// Without BENCH_LOGIN_ARGON2, login and consent are oidc-provider's devInteractions: the login
// form accepts any login and ignores the password.
import { readFileSync } from 'node:fs';
import * as querystring from 'node:querystring';

import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
}

const port = Number(required('BENCH_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const jwks = JSON.parse(readFileSync(required('BENCH_JWKS'), 'utf8'));
const tokenFormat = required('BENCH_TOKEN_FORMAT');
const rememberConsent = process.env.BENCH_REMEMBER_CONSENT !== '0';
const resource = `${issuer}/api`;
const rememberedGrants = new Map();

async function loadExistingGrant(ctx) {
  const { client, session, result } = ctx.oidc;
  const key = `${session.accountId}\u0000${client.clientId}`;
  const grantId = result?.consent?.grantId
    || session.grantIdFor(client.clientId)
    || (rememberConsent ? rememberedGrants.get(key) : undefined);
  if (!grantId) return undefined;
  const grant = await ctx.oidc.provider.Grant.find(grantId);
  if (grant && grant.accountId === session.accountId && rememberConsent) {
    rememberedGrants.set(key, grantId);
  }
  return grant;
}

const resourceIndicators = {
  enabled: tokenFormat === 'jwt',
  defaultResource: () => resource,
  useGrantedResource: () => true,
  getResourceServerInfo: () => ({
    scope: 'photos.read',
    audience: resource,
    accessTokenTTL: 300,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' } },
  }),
};

const configuration = {
  clients: [
    {
      client_id: 'bench-cc',
      client_secret: required('BENCH_CC_SECRET'),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'photos.read',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'photo-printer',
      client_secret: required('BENCH_CODE_SECRET'),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [required('BENCH_REDIRECT_URI')],
      scope: 'openid profile photos.read',
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks,
  cookies: { keys: ['bench-only-cookie-key-not-a-secret'] },
  scopes: ['openid', 'profile', 'photos.read'],
  claims: { openid: ['sub'], profile: ['name'] },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators,
  },
  pkce: { required: () => true },
  ttl: { AccessToken: 300, ClientCredentials: 300, AuthorizationCode: 60 },
  loadExistingGrant,
  async findAccount(_ctx, sub) {
    return { accountId: sub, async claims() { return { sub, name: sub }; } };
  },
};

const FORM_LIMIT = 16 * 1024;

function argon2Costs(text) {
  const costs = Object.fromEntries(text.split(',').map((kv) => kv.split('=')));
  return {
    memoryCost: Number(costs.m), timeCost: Number(costs.t), parallelism: Number(costs.p),
  };
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > FORM_LIMIT) throw new Error('form too large');
    chunks.push(chunk);
  }
  return querystring.parse(Buffer.concat(chunks).toString('utf8'));
}

// devInteractions' own body parser uses an upstream-parsed req.body when the stream is read.
async function passwordLogin(provider, costs) {
  const argon2 = await import('@node-rs/argon2');
  const user = required('BENCH_LOGIN_USER');
  const stored = await argon2.hash(required('BENCH_LOGIN_PASSWORD'), {
    algorithm: argon2.Algorithm.Argon2id, ...costs,
  });
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const form = await readForm(ctx.req);
    ctx.req.body = form;
    if (form.prompt === 'login') {
      const ok = form.login === user && typeof form.password === 'string'
        && await argon2.verify(stored, form.password);
      if (!ok) {
        ctx.status = 401;
        ctx.type = 'text';
        ctx.body = 'wrong login or password';
        return undefined;
      }
    }
    return next();
  });
}

const provider = new Provider(issuer, configuration);
const loginArgon2 = process.env.BENCH_LOGIN_ARGON2;
if (loginArgon2) await passwordLogin(provider, argon2Costs(loginArgon2));
const server = provider.listen(port, '127.0.0.1', () => {
  const login = loginArgon2 ? `argon2id ${loginArgon2} password check` : 'no password check';
  console.log(`oidc-provider listening on ${issuer} (${tokenFormat} access tokens, ${login})`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
