export const CLI_NAME = 'sie';
