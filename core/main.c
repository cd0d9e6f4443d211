/* placeholder until conference/ lands */
int main(void) { return 0; }
