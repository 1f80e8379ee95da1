// Activate editors/vscode/extension.js with stand-ins for the `vscode` API and the language
// client, and print how it would start the server: [id, server options, client options].
"use strict";
const Module = require("module");
const [extensionPath, settingsJson] = process.argv.slice(2);
const settings = JSON.parse(settingsJson);
const started = [];
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "vscode") {
    return {
      workspace: {
        getConfiguration: () => ({ get: (key) => settings[key] }),
        onDidChangeConfiguration: () => ({ dispose() {} }),
      },
      commands: { registerCommand: () => ({ dispose() {} }) },
      window: { showErrorMessage: (message) => started.push(["error", message]) },
    };
  }
  if (request === "vscode-languageclient/node") {
    return {
      TransportKind: { stdio: 0 },
      LanguageClient: class {
        constructor(id, name, server, client) { started.push([id, server, client]); }
        start() { return Promise.resolve(); }
        stop() { return Promise.resolve(); }
      },
    };
  }
  return load.call(this, request, ...rest);
};
require(extensionPath).activate({ subscriptions: [] }).then(() => console.log(JSON.stringify(started)));
