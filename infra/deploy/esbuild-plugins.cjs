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

module.exports = [parametersCjs];
