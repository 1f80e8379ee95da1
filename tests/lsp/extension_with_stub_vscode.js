// Activate editors/vscode/extension.js with stand-ins for the `vscode` API and the language
// client, and print how it started the server: [id, server options, client options] for each
// client, ["error", message] for each error shown. With a second settings object, the settings
// then change to it (as in the Settings editor) before printing.
"use strict";
const Module = require("module");
const [extensionPath, settingsJson, changedJson] = process.argv.slice(2);
let settings = JSON.parse(settingsJson);
const started = [];
const configurationListeners = [];
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "vscode") {
    return {
      workspace: {
        getConfiguration: () => ({ get: (key) => settings[key] }),
        onDidChangeConfiguration: (listener) => {
          configurationListeners.push(listener);
          return { dispose() {} };
        },
      },
      commands: { registerCommand: () => ({ dispose() {} }) },
      window: { showErrorMessage: (message) => started.push(["error", message]) },
    };
  }
  if (request === "vscode-languageclient/node") {
    // As vscode-languageclient 9: a server that cannot be spawned rejects start() with a string,
    // and a client whose start failed refuses stop().
    return {
      TransportKind: { stdio: 0 },
      LanguageClient: class {
        constructor(id, name, server, client) {
          this.server = server;
          started.push([id, server, client]);
        }
        start() {
          this.failed = this.server.command.includes("missing");
          return this.failed ? Promise.reject(`Launching server using command ${this.server.command} failed.`)
            : Promise.resolve();
        }
        stop() {
          return this.failed ? Promise.reject(new Error("Client is not running and can't be stopped."))
            : Promise.resolve();
        }
      },
    };
  }
  return load.call(this, request, ...rest);
};

async function main() {
  await require(extensionPath).activate({ subscriptions: [] });
  if (changedJson) {
    settings = JSON.parse(changedJson);
    for (const listener of configurationListeners) await listener({ affectsConfiguration: (s) => s === "rpl" });
  }
  console.log(JSON.stringify(started));
}
main();
