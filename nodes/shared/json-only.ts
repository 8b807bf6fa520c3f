/**
 * The admin endpoints that act (POST) take JSON only. A cross-site HTML form can send
 * urlencoded, multipart or text/plain bodies without the browser asking the server first, but not
 * application/json: so a page the administrator visits cannot make Node-RED write certificates or
 * read a file when adminAuth is off.
 */

interface JsonRequest {
  is(type: string): string | false | null;
}

interface JsonResponse {
  status(code: number): { json(body: unknown): unknown };
}

/** Answers 415 and returns true unless the request's body is declared application/json. */
export function refuseUnlessJson(req: JsonRequest, res: JsonResponse, example: string): boolean {
  if (req.is('application/json')) return false;
  res.status(415).json({ error: `send the request as application/json: ${example}` });
  return true;
}
