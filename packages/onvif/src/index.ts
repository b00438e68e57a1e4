export const ONVIF_PACKAGE = '@sie/onvif';
