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

// axios's http adapter imports https-proxy-agent (and agent-base, net, tls: ~12 ms at
// import) for proxies; freezer-dr sets proxy: false, so the bundles get a class nothing
// constructs.
const noProxyAgent = {
  name: 'axios-without-proxy-agent',
  setup(build) {
    build.onResolve({ filter: /^https-proxy-agent$/ }, () => ({ path: 'https-proxy-agent', namespace: 'no-proxy-agent' }));
    build.onLoad({ filter: /.*/, namespace: 'no-proxy-agent' }, () => ({
      contents:
        'export default class HttpsProxyAgent { constructor() { throw new Error("proxies are not bundled (freezer-dr sets proxy: false)"); } }',
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

// Modules the bundles take only on first use: every export of a stand-in is a getter that
// requires the real module then (esbuild reads named imports of CommonJS as property reads
// at each use, so nothing is read before). The Step Functions client: core/executions.ts
// imports it at its top, and so, through the execution-name helpers, did every function,
// loading it at cold start (~60 ms), though only the webhook, the monitor and the
// reconciler call Step Functions, and only after their first event. node:http2: axios's
// HTTP/2 path, which freezer-dr never takes (~10 ms).
const ON_FIRST_USE = /^(@aws-sdk\/client-sfn|(node:)?http2)$/;
const onFirstUse = {
  name: 'modules-on-first-use',
  setup(build) {
    build.onResolve({ filter: ON_FIRST_USE }, (args) =>
      args.namespace === 'on-first-use' || args.kind !== 'import-statement'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'on-first-use' },
    );
    build.onLoad({ filter: /.*/, namespace: 'on-first-use' }, (args) => {
      const id = JSON.stringify(args.path);
      const names = Object.keys(require(args.path)).filter((name) => name !== 'default');
      return {
        contents: `let real;const load=()=>(real??=require(${id}));
for(const name of ${JSON.stringify(names)})Object.defineProperty(exports,name,{enumerable:true,get:()=>load()[name]});`,
        loader: 'js',
      };
    });
  },
};

// axios's fetch adapter tries Request and Response at import (~25 ms: they load undici);
// freezer-dr's requests use the http adapter (chosen before fetch on Node), so the bundles
// get an adapter that says it is unavailable.
const noFetchAdapter = {
  name: 'axios-without-fetch-adapter',
  setup(build) {
    build.onResolve({ filter: /^\.\/fetch\.js$/ }, (args) =>
      /[\\/]axios[\\/]lib[\\/]adapters$/.test(args.resolveDir)
        ? { path: 'axios-fetch', namespace: 'no-fetch-adapter' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'no-fetch-adapter' }, () => ({
      contents: 'export const getFetch = () => false; export default false;',
      loader: 'js',
    }));
  },
};

// axios's utils read globalThis.FormData at import (~40 ms: it loads undici), for an
// instanceof test in isFormData. The bundles read it only for a value that could be a
// FormData (not a plain object, has append()), which freezer-dr's JSON bodies never are.
// Built from axios's own source: if that changes, the build fails here (check the patch).
const AXIOS_FORM_DATA = [
  [
    "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;",
    "let formData; const FormDataCtor = () => (formData ??= { ctor: typeof G.FormData !== 'undefined' ? G.FormData : undefined }).ctor;",
  ],
  [
    `  if (FormDataCtor && thing instanceof FormDataCtor) return true;
  // Reject plain objects inheriting directly from Object.prototype so prototype-pollution gadgets can't spoof FormData.
  const proto = getPrototypeOf(thing);
  if (!proto || proto === Object.prototype) return false;
  if (!isFunction(thing.append)) return false;`,
    `  const proto = getPrototypeOf(thing);
  if (!proto || proto === Object.prototype) return false;
  if (!isFunction(thing.append)) return false;
  if (FormDataCtor() && thing instanceof FormDataCtor()) return true;`,
  ],
];
const axiosFormDataOnUse = {
  name: 'axios-form-data-on-use',
  setup(build) {
    build.onLoad({ filter: /[\\/]axios[\\/]lib[\\/]utils\.js$/ }, async (args) => {
      let source = await require('node:fs/promises').readFile(args.path, 'utf8');
      for (const [from, to] of AXIOS_FORM_DATA) {
        if (!source.includes(from)) throw new Error(`${args.path}: no longer reads FormData as expected; check ${__filename}`);
        source = source.replace(from, to);
      }
      return { contents: source, loader: 'js' };
    });
  },
};

// An ESM import of a Node built-in makes Node build the module's ESM facade, which reads
// every export, lazy ones too: `import http from 'http'` (axios, our own code) costs ~50 ms
// because node:http's fetch-related getters load undici; require('node:http') costs ~7.
// The bundles take every built-in through the banner's require (exports read at use).
const BUILTINS = new Set(require('node:module').builtinModules);
const builtinsByRequire = {
  name: 'node-builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (args.kind !== 'import-statement' || args.namespace === 'builtin-by-require' || !BUILTINS.has(name))
        return undefined;
      return { path: `node:${name}`, namespace: 'builtin-by-require' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin-by-require' }, (args) => ({
      contents: `module.exports=require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

module.exports = [
  parametersCjs,
  noFormData,
  noFollowRedirects,
  noProxyAgent,
  smallMimeTypes,
  noFetchAdapter,
  axiosFormDataOnUse,
  onFirstUse, // before builtinsByRequire: node:http2 is taken on first use
  builtinsByRequire,
];
