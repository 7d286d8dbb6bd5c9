/**
 * effect-session-v4: cookie-backed HTTP sessions for effect 4 (`effect/http`).
 *
 * @since 0.1.0
 */
export {}
