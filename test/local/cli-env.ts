// Imported before the CLI, so that the environment is set before the AWS SDK and the CDK load.
process.env.CDK_DISABLE_CLI_TELEMETRY ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
