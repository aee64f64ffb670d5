/** What a new recipe in the editor starts from: small, valid, and showing the usual parts. */
export const STARTER_RECIPE = `{
  "id": "my-app",
  "name": "My app",
  "version": "0.1.0",
  "kind": "tool",
  "description": "A recipe written in Orchard's editor. Edit me.",
  "requires": { "platforms": ["darwin-arm64", "linux-x64"], "accelerators": ["metal", "cuda", "cpu"] },
  "install": [
    { "kind": "write", "path": "app/hello.txt", "content": "hello from orchard\\n" }
  ]
}
`;
