// esbuild plugins for the Lambda bundles (serverless.yml custom.esbuild.plugins).
//
// Powertools Parameters' ESM build imports @aws-sdk/client-secrets-manager at its top,
// and esbuild hoists an import of an external package to the top of an ESM bundle: every
// function would load the SDK client at cold start (tens of ms), even with no secret in
// Secrets Manager. Its CommonJS build requires the client only when a secret is read, so
// the bundles take that build (the banner's `require` loads the client from the runtime).
const parametersCjs = {
  name: 'powertools-parameters-cjs',
  setup(build) {
    build.onResolve({ filter: /^@aws-lambda-powertools\/parameters\// }, (args) => {
      if (args.pluginData?.cjs) return undefined;
      return build.resolve(args.path, {
        kind: 'require-call',
        resolveDir: args.resolveDir,
        pluginData: { cjs: true },
      });
    });
  },
};

// axios's Node build imports `form-data` (and with it mime-db, ~140 KB) only to build
// multipart bodies; freezer-dr sends JSON only, so the bundles get an empty stand-in.
const noFormData = {
  name: 'axios-without-form-data',
  setup(build) {
    build.onResolve({ filter: /^form-data$/ }, () => ({ path: 'form-data', namespace: 'no-form-data' }));
    build.onLoad({ filter: /.*/, namespace: 'no-form-data' }, () => ({
      contents: 'module.exports = class FormData { constructor() { throw new Error("multipart bodies are not bundled"); } };',
      loader: 'js',
    }));
  },
};

// axios follows redirects through follow-redirects (and its `debug`); freezer-dr sets
// maxRedirects 0, where axios uses Node's own http/https, so the bundles get those.
const noFollowRedirects = {
  name: 'axios-without-follow-redirects',
  setup(build) {
    build.onResolve({ filter: /^follow-redirects$/ }, () => ({ path: 'follow-redirects', namespace: 'no-follow-redirects' }));
    build.onLoad({ filter: /.*/, namespace: 'no-follow-redirects' }, () => ({
      contents: "module.exports = { http: require('node:http'), https: require('node:https') };",
      loader: 'js',
    }));
  },
};

// nodemailer guesses attachment types from a 74 KB extension table; freezer-dr sends
// text and HTML parts only, so the bundles get the two lookups without the table.
const smallMimeTypes = {
  name: 'nodemailer-without-mime-table',
  setup(build) {
    build.onResolve({ filter: /(^|\/)mime-types\.js$/ }, (args) =>
      args.importer.includes(`${require('node:path').sep}nodemailer${require('node:path').sep}`)
        ? { path: 'mime-types', namespace: 'small-mime-types' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'small-mime-types' }, () => ({
      contents: [
        "const known = { 'text/plain': 'txt', 'text/html': 'html', 'text/calendar': 'ics', 'application/json': 'json' };",
        "export function detectMimeType(filename) { const ext = String(filename || '').split('.').pop().toLowerCase(); const hit = Object.entries(known).find(([, e]) => e === ext); return hit ? hit[0] : 'application/octet-stream'; }",
        "export function detectExtension(mimeType) { return known[String(mimeType || '').toLowerCase().trim()] || 'bin'; }",
      ].join('\n'),
      loader: 'js',
    }));
  },
};

module.exports = [parametersCjs, noFormData, noFollowRedirects, smallMimeTypes];
