// The protocols `coordkit list`, `all` and `report` cover here (compiled modules, relative to this file).
export default { protocols: ['./dist/protocol.js'] };
