// A real OpenID Connect provider for the single sign-on tests (npm oidc-provider, its development login pages: any
// password is accepted). Environment:
//   PORT            the port on 127.0.0.1
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS (comma separated)   the one registered client
//   USERS           JSON {"login": ["group", ...]}: the groups claim of each login (others get none)
// Prints "oidc provider listening on <issuer>" when ready. Test use only.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const users = JSON.parse(process.env.USERS || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: (process.env.REDIRECT_URIS || '').split(',').filter(Boolean),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  scopes: ['openid', 'profile', 'groups'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], groups: ['groups'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['platform-test-oidc-provider'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: id, preferred_username: id, groups: users[id] || [] };
      },
    };
  },
});

provider.listen(port, '127.0.0.1', () => console.log(`oidc provider listening on ${issuer}`));
