// A real OpenID Provider (node-oidc-provider) for pms's end-to-end sign-in test
// (crates/pms/tests/portal/provider.rs starts it; nothing else should).
//
// Listens on a free loopback port and prints `listening <issuer>` on stdout; then reads one line
// from stdin, the portal's callback (the one redirect URI of client OP_CLIENT_ID: pms needs the
// issuer before it starts, the provider pms's address), and prints `ready`. The rest of its
// configuration comes from the environment:
//   OP_CLIENT_ID         the portal's public client (PKCE required), default `pms-portal`
//   OP_AUDIENCE          the `aud` of the access tokens (pms's auth.allowed_audiences), default
//                        `pms-api`; they are issued for the resource indicator `urn:pms:api`
//   OP_ACCESS_TOKEN_TTL  seconds, default 300
//   OP_USERS             JSON: login -> realm roles, default {"alice":["AUTH_PARTNER"]}
// The sign-in and consent pages are the provider's own development interactions (any password).
// Access tokens are JWTs signed ES256 carrying the realm roles as Keycloak does
// (`realm_access.roles`, `preferred_username`); ID tokens are signed RS256.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const clientId = process.env.OP_CLIENT_ID || 'pms-portal';
const audience = process.env.OP_AUDIENCE || 'pms-api';
const accessTokenTtl = Number(process.env.OP_ACCESS_TOKEN_TTL || 300);
const resource = 'urn:pms:api';
const users = JSON.parse(process.env.OP_USERS || '{"alice":["AUTH_PARTNER"]}');

function signingKey(type, options, alg) {
  const jwk = generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-1` };
}

// Claims of an account, for the ID token and the access token alike.
function profile(login) {
  return {
    preferred_username: login,
    email: `${login}@example.org`,
    realm_access: { roles: users[login] || [] },
  };
}

function start(issuer, redirectUri) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      token_endpoint_auth_method: 'none',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: {
      keys: [
        signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
        signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
      ],
    },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'realm_access'],
      email: ['email'],
    },
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub, ...profile(sub) }) };
    },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget();
          return {
            scope: 'pms',
            audience,
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    async extraTokenClaims(_ctx, token) {
      return token.kind === 'AccessToken' && token.accountId ? profile(token.accountId) : undefined;
    },
    // The portal keeps a session alive with refresh tokens whatever scopes it asks for.
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    pkce: { required: () => true },
    ttl: { AccessToken: accessTokenTtl },
  });
  server.on('request', provider.callback());
  console.log('ready');
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  console.log(`listening ${issuer}`);
  const lines = createInterface({ input: process.stdin });
  lines.once('line', (redirectUri) => {
    lines.close();
    start(issuer, redirectUri.trim());
  });
});
// The test ends the provider by closing stdin (or killing it).
process.stdin.on('end', () => process.exit(0));

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
