package dev.apiary.api;

/**
 * An API failure with its HTTP status; rendered as {@code {"error": <code>, "message": <text>}}
 * and, for a bad request, {@code "field"}: the parameter or body field at fault.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String code;
    private final String field;

    public ApiError(int status, String code, String message, String field) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    public static ApiError badRequest(String field, String message) {
        return new ApiError(400, "bad_request", message, field);
    }

    public static ApiError notFound(String message) {
        return new ApiError(404, "not_found", message, null);
    }

    public static ApiError conflict(String message) {
        return new ApiError(409, "conflict", message, null);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String field() {
        return field;
    }
}
