// The rpl extension: start `rpl lsp` (its path is a setting) and let the language client speak to it.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration("rpl");
  const command = config.get("server.path") || "rpl";
  const args = config.get("server.args") || ["lsp"];
  // No `transport`: the client then speaks over the process's stdin and stdout as it is. Naming
  // TransportKind.stdio would make it append `--stdio` to the arguments, which `rpl lsp` refuses.
  return { command, args };
}

function clientOptions() {
  const config = vscode.workspace.getConfiguration("rpl");
  return {
    documentSelector: [{ scheme: "file", language: "rpl" }, { scheme: "untitled", language: "rpl" }],
    initializationOptions: {
      debounceMs: config.get("debounceMs"),
      errorsUrl: config.get("errorsUrl") || undefined,
    },
  };
}

async function start() {
  client = new LanguageClient("rpl", "rpl language server", serverOptions(), clientOptions());
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `rpl: could not start \`${serverOptions().command} lsp\` (${error?.message ?? error}). ` +
        "Install rplang[lsp] and set rpl.server.path to its rpl command.");
  }
}

async function restart() {
  if (client) {
    try {
      await client.stop();
    } catch {
      // A client whose server never started cannot be stopped; a new one starts all the same, so
      // that setting rpl.server.path after that error is enough.
    }
  }
  await start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("rpl.restartServer", restart),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("rpl")) await restart();
    }),
  );
  await start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
