package auth

// ThrottleKeyForTest is throttleKey, for the tests of package auth_test.
var ThrottleKeyForTest = throttleKey
