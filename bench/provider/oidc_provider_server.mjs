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
// Login and consent are oidc-provider's devInteractions: the login form accepts any
// login and ignores the password.
import { readFileSync } from 'node:fs';

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

const provider = new Provider(issuer, configuration);
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer} (${tokenFormat} access tokens)`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
